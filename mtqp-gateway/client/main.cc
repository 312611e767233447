// mtrk-track: the MTQP command-line client (RFC 3887). See track_command.h.
#include <iostream>
#include <string>
#include <vector>

#include "mtqp-gateway/client/track_command.h"

int main(int argc, char** argv) {
  namespace client = mtrk::gateway::client;
  const std::vector<std::string> args(argv + 1, argv + argc);
  for (const std::string& a : args) {
    if (a == "--help" || a == "-h") {
      std::cout << client::kTrackUsage;
      return 0;
    }
  }
  if (!args.empty() && args[0] == "new") {
    return client::RunNew(std::span<const std::string>(args).subspan(1), std::cout, std::cerr);
  }
  absl::StatusOr<client::TrackOptions> options = client::ParseTrackArgs(args);
  if (!options.ok()) {
    std::cerr << "mtrk-track: " << options.status().message() << "\n" << client::kTrackUsage;
    return client::kExitError;
  }
  return client::RunTrack(*options, std::cout, std::cerr);
}
