// The page's files (web/), embedded into the binary at build time (web_assets.cc.in): no
// framework or file is fetched at run time.
#pragma once

#include "absl/strings/string_view.h"

namespace mtrk::gateway::helpdesk {

extern const absl::string_view kIndexHtml;
extern const absl::string_view kAppJs;
extern const absl::string_view kAppCss;

}  // namespace mtrk::gateway::helpdesk
