// mtrk-collector: stores hop events pushed by agents and answers lookups (collector/app/).
#include "collector/app/collector_app.h"

int main(int argc, char** argv) { return mtrk::collector::app::RunCollector(argc, argv); }
