#include "mtqp-gateway/helpdesk/search_query.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/status_matchers.h"

namespace mtrk::gateway::helpdesk {
namespace {

using Params = std::map<std::string, std::string>;

std::string Describe(const absl::StatusOr<StaffQuery>& q) {
  if (!q.ok()) return std::string(q.status().message());
  return QueryToJson(*q);
}

TEST(SearchQueryTest, AcceptsEveryField) {
  const struct {
    Params in;
    std::string want;
  } kCases[] = {
      {{{"sender", " Alice@A.example "}}, R"({"sender":"alice@a.example"})"},
      {{{"message_id", "<20261123062705.007736@vm>"}},
       R"({"message_id":"20261123062705.007736@vm"})"},
      {{{"queue_id", "1d4baa74210"}}, R"({"queue_id":"1D4BAA74210"})"},
      {{{"envid", "a-simple-delivery.6b60@a.example"}},
       R"({"envid":"a-simple-delivery.6b60@a.example"})"},
      // The user's zone goes in, UTC comes out.
      {{{"from", "2026-11-23T07:27:00+01:00"}, {"to", "2026-11-23T07:30Z"}},
       R"({"from":"2026-11-23T06:27:00Z","to":"2026-11-23T07:30:00Z"})"},
      {{{"recipient", "bob"}, {"match", "substring"}, {"status", "delayed"}, {"page_size", "10"}},
       R"({"recipient":"bob","status":"delayed","match":"substring"})"},
  };
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.want);
    EXPECT_EQ(Describe(ParseStaffQuery(c.in)), c.want);
  }
}

TEST(SearchQueryTest, RefusesBadInputNamingTheField) {
  const struct {
    Params in;
    std::string want;
  } kCases[] = {
      {{}, "search: give at least one of sender, recipient, message_id, envid, queue_id, from, to"},
      {{{"sender", "x' OR '1'='1"}}, "sender: character ''' is not allowed in 'x? OR ?1?=?1'"},
      {{{"recipient", "<script>alert(1)</script>"}},
       "recipient: character '<' is not allowed in '?script?alert(1)?/script?'"},
      {{{"sender", std::string(513, 'a')}}, "sender: longer than 512 bytes"},
      {{{"message_id", "<abc"}}, "message_id: '<' without '>' in '?abc'"},
      {{{"message_id", "a b@c"}}, "message_id: character byte 0x20 is not allowed in 'a b@c'"},
      {{{"envid", "x;DROP TABLE helpdesk_users"}},
       "envid: character ';' is not allowed in 'x;DROP TABLE helpdesk_users'"},
      {{{"envid", std::string(101, 'e')}}, "envid: longer than 100 bytes"},
      {{{"queue_id", "1D4B'--"}}, "queue_id: character ''' is not allowed in '1D4B?--'"},
      {{{"from", "yesterday"}},
       "from: not a date-time with zone, such as 2026-11-23T07:27:00+01:00 or "
       "2026-11-23T06:27:00Z: 'yesterday'"},
      {{{"from", "2026-11-23T07:27:00"}},  // no zone: ambiguous
       "from: not a date-time with zone, such as 2026-11-23T07:27:00+01:00 or "
       "2026-11-23T06:27:00Z: '2026-11-23T07:27:00'"},
      {{{"from", "2026-11-23T08:00Z"}, {"to", "2026-11-23T07:00Z"}}, "from: must be before to"},
      {{{"sender", "a@b"}, {"status", "lost"}},
       "status: not one of delivered, expanded, relayed, transferred, delayed, failed, opaque: "
       "'lost'"},
      {{{"sender", "a@b"}, {"match", "regex"}},
       "match: not one of exact, prefix, substring: 'regex'"},
      {{{"sender", "a@b"}, {"page_size", "100000"}},
       "page_size: not a number from 1 to 500: '100000'"},
      {{{"sender", "a@b"}, {"cursor", "a\"b"}}, "cursor: character '\"' is not allowed in 'a?b'"},
      {{{"sender", "a@b"}, {"domains", "evil.example"}}, "'domains': unknown parameter"},
      {{{"sender", "a\r\nb@c"}}, "sender: character byte 0x0d is not allowed in 'a??b@c'"},
  };
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.want);
    absl::StatusOr<StaffQuery> q = ParseStaffQuery(c.in);
    EXPECT_THAT(q, test::StatusIs(absl::StatusCode::kInvalidArgument));
    EXPECT_EQ(Describe(q), c.want);
  }
}

}  // namespace
}  // namespace mtrk::gateway::helpdesk
