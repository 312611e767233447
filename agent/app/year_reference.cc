#include "agent/app/year_reference.h"

#include <sys/stat.h>

#include <algorithm>

namespace mtrk::agent::app {

absl::Time YearReferenceOfFile(const std::string& path, absl::Time now) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return now;
  // A clock set wrong when the file was written must not pull its lines into the future.
  return std::min(now, absl::TimeFromTimespec(st.st_mtim));
}

}  // namespace mtrk::agent::app
