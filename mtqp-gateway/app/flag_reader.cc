#include "mtqp-gateway/app/flag_reader.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace mtrk::gateway::app {

FlagReader::FlagReader(std::span<char* const> args, std::vector<std::string> switches,
                       std::vector<std::string> known)
    : args_(args), switches_(std::move(switches)), known_(std::move(known)) {}

bool FlagReader::IsSwitch(const std::string& name) const {
  return std::find(switches_.begin(), switches_.end(), name) != switches_.end();
}

absl::StatusOr<FlagReader::Flag> FlagReader::Next() {
  Flag flag{.name = args_[next_++], .value = ""};
  const size_t eq = flag.name.find('=');
  if (eq == std::string::npos && IsSwitch(flag.name)) return flag;
  if (eq != std::string::npos) {
    flag.value = flag.name.substr(eq + 1);
    flag.name.resize(eq);
    if (IsSwitch(flag.name)) {
      return absl::InvalidArgumentError(absl::StrCat(flag.name, " takes no value"));
    }
  }
  if (!known_.empty() && std::find(known_.begin(), known_.end(), flag.name) == known_.end()) {
    return absl::InvalidArgumentError(absl::StrCat("unknown flag ", flag.name));
  }
  if (eq == std::string::npos) {
    if (done()) return absl::InvalidArgumentError(absl::StrCat(flag.name, " needs a value"));
    flag.value = args_[next_++];
  }
  return flag;
}

}  // namespace mtrk::gateway::app
