// Values as PostgreSQL's text input forms, for parameters and COPY fields of the pg/ store.
#pragma once

#include <string>
#include <vector>

#include "absl/time/time.h"

namespace mtrk::collector::store {

// A timestamptz in UTC with an explicit offset ("2026-11-23 06:27:05.123456+00"), so the
// session TimeZone cannot shift it.
std::string TimestampText(absl::Time t);

// A text[] literal: every element double-quoted, with " and \ escaped.
std::string ArrayLiteral(const std::vector<std::string>& values);

}  // namespace mtrk::collector::store
