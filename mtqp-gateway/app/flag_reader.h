// FlagReader: walks a command line of "--flag value" and "--flag=value" words, one flag at a
// time, for mtrk-gateway and its helpdesk subcommands (which share this syntax). It only splits:
// what a flag means, and whether it is known, stays with the caller, unless `known` is given.
// Flags are read in order, so a caller that acts on one as it comes (--help) behaves the same
// whatever follows it. Not thread-safe; the words must outlive the reader.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace mtrk::gateway::app {

class FlagReader {
 public:
  struct Flag {
    std::string name;   // "--listen", as written
    std::string value;  // empty for a switch (and for "--flag=")
  };

  // `args`: the words after the program (or subcommand) name. `switches`: flags that take no
  // value ("--tls-required", "--help"). `known`: when not empty, the flags that take a value;
  // any other flag is an error.
  explicit FlagReader(std::span<char* const> args, std::vector<std::string> switches = {},
                      std::vector<std::string> known = {});

  bool done() const { return next_ >= args_.size(); }

  // The next flag; call only while !done(). InvalidArgument: "--x needs a value" (the last word
  // with no '='), "--x takes no value" (a switch written "--x=..."), "unknown flag --x".
  absl::StatusOr<Flag> Next();

 private:
  bool IsSwitch(const std::string& name) const;

  const std::span<char* const> args_;
  const std::vector<std::string> switches_;
  const std::vector<std::string> known_;
  size_t next_ = 0;
};

}  // namespace mtrk::gateway::app
