#include "agent/app/quarantine_command.h"

#include <filesystem>
#include <memory>
#include <system_error>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "agent/spool/spool.h"
#include "common/base/status_macros.h"

namespace mtrk::agent::app {

absl::Status RunQuarantineCommand(const RunConfig& config, absl::string_view action,
                                  std::ostream& out) {
  if (action != "list" && action != "requeue") {
    return absl::InvalidArgumentError(
        absl::StrCat("quarantine: unknown action '", action, "' (list or requeue)"));
  }
  // Open would create an empty spool at a mistyped path.
  if (std::error_code ec; !std::filesystem::exists(config.spool_path, ec)) {
    return absl::NotFoundError(absl::StrCat("quarantine: no spool at ", config.spool_path));
  }
  MTRK_ASSIGN_OR_RETURN(std::unique_ptr<spool::Spool> spool,
                        spool::Spool::Open({.path = config.spool_path}));
  if (action == "list") {
    MTRK_ASSIGN_OR_RETURN(const std::vector<spool::Spool::Quarantined> batches,
                          spool->ListQuarantined());
    int64_t events = 0;
    for (const spool::Spool::Quarantined& q : batches) {
      // The reason is the collector's error text: escaped, so one batch stays one line.
      out << "record=" << q.record_seq << " events=" << q.events << " bytes=" << q.data.size()
          << " reason=\"" << absl::CHexEscape(q.reason) << "\"\n";
      events += q.events;
    }
    out << "mtrk-agent: " << batches.size() << " quarantined batches, " << events << " events in "
        << config.spool_path << "\n";
    return absl::OkStatus();
  }
  MTRK_ASSIGN_OR_RETURN(const int64_t events, spool->RequeueQuarantined());
  out << "mtrk-agent: requeued " << events << " events in " << config.spool_path
      << "; the agent sends them when it runs\n";
  return absl::OkStatus();
}

}  // namespace mtrk::agent::app
