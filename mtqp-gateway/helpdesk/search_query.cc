#include "mtqp-gateway/helpdesk/search_query.h"

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "mtqp-gateway/helpdesk/json_writer.h"

namespace mtrk::gateway::helpdesk {
namespace {

// Shown in errors: printable, at most 40 characters, so an error never echoes markup or a
// megabyte back.
std::string Quote(absl::string_view v) {
  std::string out;
  for (const char ch : v.substr(0, 40)) {
    const auto c = static_cast<unsigned char>(ch);
    out += (c >= 0x20 && c < 0x7f && c != '<' && c != '>' && c != '&' && c != '"' && c != '\'')
               ? ch
               : '?';
  }
  if (v.size() > 40) out += "...";
  return absl::StrCat("'", out, "'");
}

absl::Status Bad(absl::string_view field, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", why));
}

// RFC 5322 atext, the characters of a dot-atom local part or domain; quoted local parts and
// domain literals are not searchable (nobody types them at a helpdesk).
bool IsAtext(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) ||
         absl::string_view("!#$%&*+/=?^_`{|}~-").find(c) != absl::string_view::npos;
}

absl::Status CheckChars(absl::string_view field, absl::string_view value, size_t max_bytes,
                        bool (*allowed)(char)) {
  if (value.size() > max_bytes) {
    return Bad(field, absl::StrCat("longer than ", max_bytes, " bytes"));
  }
  for (const char c : value) {
    if (!allowed(c)) {
      const auto u = static_cast<unsigned char>(c);
      const std::string shown = (u > 0x20 && u < 0x7f)
                                    ? absl::StrCat("'", std::string(1, c), "'")
                                    : absl::StrCat("byte 0x", absl::Hex(u, absl::kZeroPad2));
      return Bad(field, absl::StrCat("character ", shown, " is not allowed in ", Quote(value)));
    }
  }
  return absl::OkStatus();
}

bool AddressChar(char c) { return IsAtext(c) || c == '.' || c == '@'; }
bool MessageIdChar(char c) { return IsAtext(c) || c == '.' || c == '@' || c == '[' || c == ']'; }
bool EnvidChar(char c) {
  // Printable ASCII without space, quotes, backslash, <>, ;: what real ENVIDs use, and nothing
  // that reads as markup or SQL.
  return c > 0x20 && c < 0x7f && absl::string_view("\"'\\<>;`").find(c) == absl::string_view::npos;
}
bool QueueIdChar(char c) { return absl::ascii_isalnum(static_cast<unsigned char>(c)); }
bool CursorChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) ||
         absl::string_view("-_=.:+/").find(c) != absl::string_view::npos;
}

constexpr size_t kMaxMessageIdBytes = 998;  // RFC 5322 §2.1.1 line limit
constexpr size_t kMaxQueueIdBytes = 32;
constexpr size_t kMaxCursorBytes = 512;

absl::string_view MatchName(MatchMode m) {
  switch (m) {
    case MatchMode::kPrefix:
      return "prefix";
    case MatchMode::kSubstring:
      return "substring";
    case MatchMode::kExact:
      break;
  }
  return "exact";
}

}  // namespace

absl::StatusOr<absl::Time> ParseZonedTime(absl::string_view field, absl::string_view value) {
  if (value.size() > 64) return Bad(field, "longer than 64 bytes");
  absl::Time t;
  std::string err;
  const std::string v(value);
  for (const char* format : {"%Y-%m-%d%ET%H:%M:%E*S%Ez", "%Y-%m-%d%ET%H:%M%Ez"}) {
    if (absl::ParseTime(format, v, &t, &err)) return t;
  }
  return Bad(field, absl::StrCat("not a date-time with zone, such as 2026-11-23T07:27:00+01:00 "
                                 "or 2026-11-23T06:27:00Z: ",
                                 Quote(value)));
}

absl::Status ValidateEnvid(absl::string_view field, absl::string_view envid) {
  if (envid.empty()) return Bad(field, "empty");
  return CheckChars(field, envid, model::kMaxEnvidBytes, EnvidChar);
}

absl::StatusOr<StaffQuery> ParseStaffQuery(const std::map<std::string, std::string>& params) {
  StaffQuery q;
  bool has_criterion = false;
  for (const auto& [name, raw] : params) {
    const absl::string_view value = absl::StripAsciiWhitespace(raw);
    if (name == "sender" || name == "recipient") {
      if (value.empty()) continue;
      if (absl::Status s = CheckChars(name, value, model::kMaxAddressBytes, AddressChar); !s.ok()) {
        return s;
      }
      (name == "sender" ? q.sender : q.recipient) = absl::AsciiStrToLower(value);
      has_criterion = true;
    } else if (name == "message_id") {
      absl::string_view id = value;
      if (id.empty()) continue;
      if (absl::ConsumePrefix(&id, "<") && !absl::ConsumeSuffix(&id, ">")) {
        return Bad(name, absl::StrCat("'<' without '>' in ", Quote(value)));
      }
      if (id.empty()) return Bad(name, "empty between <>");
      if (absl::Status s = CheckChars(name, id, kMaxMessageIdBytes, MessageIdChar); !s.ok()) {
        return s;
      }
      q.message_id = std::string(id);
      has_criterion = true;
    } else if (name == "envid") {
      if (value.empty()) continue;
      if (absl::Status s = ValidateEnvid(name, value); !s.ok()) return s;
      q.envid = std::string(value);
      has_criterion = true;
    } else if (name == "queue_id") {
      if (value.empty()) continue;
      if (absl::Status s = CheckChars(name, value, kMaxQueueIdBytes, QueueIdChar); !s.ok()) {
        return s;
      }
      q.queue_id = absl::AsciiStrToUpper(value);
      has_criterion = true;
    } else if (name == "from" || name == "to") {
      if (value.empty()) continue;
      absl::StatusOr<absl::Time> t = ParseZonedTime(name, value);
      if (!t.ok()) return t.status();
      (name == "from" ? q.from : q.to) = *t;
      has_criterion = true;
    } else if (name == "status") {
      if (value.empty() || value == "any") continue;
      std::optional<model::DsnAction> a = model::ParseActionName(value);
      if (!a.has_value() || *a == model::DsnAction::kUnspecified) {
        return Bad(name, absl::StrCat("not one of delivered, expanded, relayed, transferred, "
                                      "delayed, failed, opaque: ",
                                      Quote(value)));
      }
      q.action = *a;
    } else if (name == "match") {
      if (value.empty() || value == "exact") {
        q.match = MatchMode::kExact;
      } else if (value == "prefix") {
        q.match = MatchMode::kPrefix;
      } else if (value == "substring") {
        q.match = MatchMode::kSubstring;
      } else {
        return Bad(name, absl::StrCat("not one of exact, prefix, substring: ", Quote(value)));
      }
    } else if (name == "page_size") {
      if (value.empty()) continue;
      uint32_t n = 0;
      if (!absl::SimpleAtoi(value, &n) || n < 1 || n > 500) {
        return Bad(name, absl::StrCat("not a number from 1 to 500: ", Quote(value)));
      }
      q.page_size = n;
    } else if (name == "cursor") {
      if (value.empty()) continue;
      if (absl::Status s = CheckChars(name, value, kMaxCursorBytes, CursorChar); !s.ok()) {
        return s;
      }
      q.cursor = std::string(value);
    } else {
      return Bad(Quote(name), "unknown parameter");
    }
  }
  if (!has_criterion) {
    return absl::InvalidArgumentError(
        "search: give at least one of sender, recipient, message_id, envid, queue_id, from, to");
  }
  if (q.from != absl::InfinitePast() && q.to != absl::InfiniteFuture() && q.from >= q.to) {
    return Bad("from", "must be before to");
  }
  return q;
}

std::string QueryToJson(const StaffQuery& q) {
  JsonWriter w;
  w.BeginObject();
  if (!q.sender.empty()) w.Field("sender", q.sender);
  if (!q.recipient.empty()) w.Field("recipient", q.recipient);
  if (!q.message_id.empty()) w.Field("message_id", q.message_id);
  if (!q.envid.empty()) w.Field("envid", q.envid);
  if (!q.queue_id.empty()) w.Field("queue_id", q.queue_id);
  if (q.from != absl::InfinitePast()) {
    w.Field("from", absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", q.from, absl::UTCTimeZone()));
  }
  if (q.to != absl::InfiniteFuture()) {
    w.Field("to", absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", q.to, absl::UTCTimeZone()));
  }
  if (q.action != model::DsnAction::kUnspecified) {
    w.Field("status", model::ActionName(q.action));
  }
  if (q.match != MatchMode::kExact) w.Field("match", MatchName(q.match));
  if (!q.domains.empty()) {
    w.Key("domains").BeginArray();
    for (const std::string& d : q.domains) w.String(d);
    w.EndArray();
  }
  if (!q.cursor.empty()) w.Field("cursor", q.cursor);
  w.EndObject();
  return w.str();
}

}  // namespace mtrk::gateway::helpdesk
