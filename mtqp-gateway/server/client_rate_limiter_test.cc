// ClientRateLimiter with an injected clock, and the session spending its tokens.
#include "mtqp-gateway/server/client_rate_limiter.h"

#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "mtqp-gateway/mtqp/session.h"
#include "tests/support/status_matchers.h"

namespace mtrk::gateway::server {
namespace {

constexpr absl::string_view kEnvid = "20261123.a1b2c3@a.example";
constexpr absl::string_view kSecretB64 = "jztaHJ0uT2BxgpOktcbX6A";  // 16 octets
constexpr absl::string_view kOtherSecretB64 = "AAAAAAAAAAAAAAAAAAAAAA";

class ManualClock {
 public:
  absl::Time Now() const { return now_; }
  void Advance(absl::Duration d) { now_ += d; }
  std::function<absl::Time()> AsFunction() {
    return [this] { return now_; };
  }

 private:
  absl::Time now_ = absl::FromUnixSeconds(1795415225);
};

TEST(ParseRateLimitTest, CountPerSecondsOrOff) {
  const struct {
    absl::string_view text;
    int64_t burst;
    absl::Duration period;
  } kGood[] = {
      {"20/60", 20, absl::Seconds(60)},
      {"1/1", 1, absl::Seconds(1)},
      {"off", 0, absl::Minutes(1)},
      {"0", 0, absl::Minutes(1)},
  };
  for (const auto& c : kGood) {
    SCOPED_TRACE(c.text);
    ASSERT_OK_AND_ASSIGN(RateLimit got, ParseRateLimit(c.text));
    EXPECT_EQ(got.burst, c.burst);
    EXPECT_EQ(got.period, c.period);
    EXPECT_EQ(got.enabled(), c.burst > 0);
  }
  for (absl::string_view bad : {"", "20", "20/", "/60", "20/0", "-1/60", "x/60", "20/60/1", "on"}) {
    SCOPED_TRACE(bad);
    EXPECT_THAT(ParseRateLimit(bad), test::StatusIs(absl::StatusCode::kInvalidArgument));
  }
}

TEST(ClientKeyTest, Ipv4PerAddressIpv6PerSlash64) {
  const struct {
    absl::string_view address, want;
  } kCases[] = {
      {"192.0.2.1", "192.0.2.1"},
      {"::ffff:192.0.2.1", "192.0.2.1"},  // a dual-stack socket's IPv4 client
      {"2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64"},
      {"2001:db8:1:2::1", "2001:db8:1:2::/64"},
      {"2001:db8:1:3::1", "2001:db8:1:3::/64"},
      {"::1", "::/64"},
  };
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.address);
    EXPECT_EQ(ClientKey(asio::ip::make_address(std::string(c.address))), c.want);
  }
}

TEST(ClientRateLimiterTest, BurstThenRefillAtBurstPerPeriod) {
  ManualClock clock;
  ClientRateLimiter limiter({.burst = 3, .period = absl::Seconds(30)}, 100, clock.AsFunction());
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(limiter.TryAcquire("192.0.2.1")) << i;
  EXPECT_FALSE(limiter.TryAcquire("192.0.2.1"));
  EXPECT_TRUE(limiter.TryAcquire("192.0.2.2"));  // per client
  clock.Advance(absl::Seconds(9));               // 0.9 of a token: still empty
  EXPECT_FALSE(limiter.TryAcquire("192.0.2.1"));
  clock.Advance(absl::Seconds(1));  // one token every 10 s
  EXPECT_TRUE(limiter.TryAcquire("192.0.2.1"));
  EXPECT_FALSE(limiter.TryAcquire("192.0.2.1"));
  EXPECT_EQ(limiter.refused(), 3);
  clock.Advance(absl::Hours(1));  // never more than the burst
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(limiter.TryAcquire("192.0.2.1")) << i;
  EXPECT_FALSE(limiter.TryAcquire("192.0.2.1"));
}

TEST(ClientRateLimiterTest, RefundGivesTheTokenBackAndFullBucketsAreForgotten) {
  ManualClock clock;
  ClientRateLimiter limiter({.burst = 2, .period = absl::Minutes(1)}, 100, clock.AsFunction());
  for (int i = 0; i < 10; ++i) {  // successes cost nothing
    ASSERT_TRUE(limiter.TryAcquire("192.0.2.1"));
    limiter.Refund("192.0.2.1");
  }
  EXPECT_EQ(limiter.size(), 0u);  // a full bucket is the same as none
  EXPECT_TRUE(limiter.TryAcquire("192.0.2.1"));
  EXPECT_TRUE(limiter.TryAcquire("192.0.2.1"));
  limiter.Refund("192.0.2.1");
  EXPECT_TRUE(limiter.TryAcquire("192.0.2.1"));
  EXPECT_FALSE(limiter.TryAcquire("192.0.2.1"));
  limiter.Refund("192.0.2.9");  // never seen: nothing to give back, nothing kept
  EXPECT_EQ(limiter.size(), 1u);
}

TEST(ClientRateLimiterTest, DisabledLimitAllowsEverythingAndKeepsNothing) {
  ClientRateLimiter limiter({.burst = 0});
  for (int i = 0; i < 1000; ++i) EXPECT_TRUE(limiter.TryAcquire("192.0.2.1"));
  EXPECT_EQ(limiter.size(), 0u);
}

TEST(ClientRateLimiterTest, TableIsBoundedLeastRecentlySeenGoesFirst) {
  ManualClock clock;
  ClientRateLimiter limiter({.burst = 1, .period = absl::Hours(1)}, 3, clock.AsFunction());
  EXPECT_TRUE(limiter.TryAcquire("a"));
  EXPECT_TRUE(limiter.TryAcquire("b"));
  EXPECT_TRUE(limiter.TryAcquire("c"));
  EXPECT_FALSE(limiter.TryAcquire("a"));  // "a" is now the most recently seen
  EXPECT_TRUE(limiter.TryAcquire("d"));   // evicts "b", the least recently seen
  EXPECT_EQ(limiter.size(), 3u);
  EXPECT_FALSE(limiter.TryAcquire("a"));  // kept
  EXPECT_FALSE(limiter.TryAcquire("c"));  // kept
  EXPECT_TRUE(limiter.TryAcquire("b"));   // forgotten: a fresh bucket
  for (int i = 0; i < 10000; ++i) limiter.TryAcquire(absl::StrCat("flood-", i));
  EXPECT_EQ(limiter.size(), 3u);
}

TEST(ClientRateLimiterTest, IdleBucketsAreForgottenOnceRefilled) {
  ManualClock clock;
  ClientRateLimiter limiter({.burst = 5, .period = absl::Minutes(1)}, 1000, clock.AsFunction());
  for (int i = 0; i < 100; ++i) limiter.TryAcquire(absl::StrCat("192.0.2.", i));
  EXPECT_EQ(limiter.size(), 100u);
  clock.Advance(absl::Minutes(1));  // all refilled; each later call drops two from the idle end
  for (int i = 0; i < 60; ++i) limiter.TryAcquire("198.51.100.1");
  EXPECT_EQ(limiter.size(), 1u);
}

// The session spends the limiter's tokens: only noinfo answers keep one, every kind of noinfo
// exactly one, and past the limit even the right secret gets the same -TEMP/admin line.
class FakeLookup : public mtqp::TrackLookup {
 public:
  absl::StatusOr<std::vector<model::HopEvent>> Track(absl::string_view envid,
                                                     absl::string_view secret) override {
    ++calls;
    if (down) return absl::UnavailableError("collector down");
    std::string want;
    absl::Base64Unescape(kSecretB64, &want);
    if (envid != kEnvid || secret != want) return absl::NotFoundError("no");
    model::HopEvent e;
    e.reporting_mta = "mta-a.a.example";
    e.envid = std::string(envid);
    e.final_recipient = "alice@a.example";
    e.action = model::DsnAction::kDelivered;
    e.status = "2.0.0";
    e.remote_mta = "127.0.0.2";
    e.arrival_time = absl::FromUnixSeconds(1795415225);
    e.last_attempt_time = e.arrival_time;
    return std::vector<model::HopEvent>{e};
  }
  int calls = 0;
  bool down = false;
};

TEST(SessionRateLimitTest, NoInfoOfEveryKindCostsOneTokenSuccessNone) {
  ManualClock clock;
  ClientRateLimiter limiter({.burst = 4, .period = absl::Hours(1)}, 100, clock.AsFunction());
  FakeLookup lookup;
  mtqp::SessionOptions options;
  options.track_limiter = &limiter;
  mtqp::Session session(options, lookup);
  session.set_client("192.0.2.7");
  mtqp::Session other(options, lookup);  // another connection from the same address
  other.set_client("192.0.2.7");

  const std::string right = absl::StrCat("TRACK ", kEnvid, " ", kSecretB64);
  for (int i = 0; i < 5; ++i) {  // successes are free
    EXPECT_TRUE(absl::StartsWith(session.HandleLine(right).response, "+OK+"));
  }
  lookup.down = true;  // the collector's failures are free too
  EXPECT_EQ(session.HandleLine(right).response, mtqp::kUnavailableLine);
  lookup.down = false;
  const std::string kFailures[] = {
      absl::StrCat("TRACK ", kEnvid, " ", kOtherSecretB64),       // wrong secret
      absl::StrCat("TRACK unknown@a.example ", kSecretB64),       // unknown ENVID
      absl::StrCat("TRACK ", kEnvid, " AAAA"),                    // secret too short
      absl::StrCat("TRACK unknown@a.example ", kOtherSecretB64),  // both
  };
  for (const std::string& line : kFailures) {
    SCOPED_TRACE(line);
    EXPECT_EQ(other.HandleLine(line).response, mtqp::kNoInfoLine);
  }
  const int calls = lookup.calls;
  for (mtqp::Session* s : {&session, &other}) {  // the budget is per address, not per connection
    for (const std::string& line : {right, kFailures[0], kFailures[1]}) {
      SCOPED_TRACE(line);
      EXPECT_EQ(s->HandleLine(line).response, mtqp::kRateLimitedLine);
    }
  }
  EXPECT_EQ(lookup.calls, calls);  // refused without asking the collector
  EXPECT_EQ(limiter.refused(), 6);
  mtqp::Session elsewhere(options, lookup);
  elsewhere.set_client("192.0.2.8");
  EXPECT_EQ(elsewhere.HandleLine(kFailures[0]).response, mtqp::kNoInfoLine);
  clock.Advance(absl::Minutes(15));  // one token back
  EXPECT_TRUE(absl::StartsWith(session.HandleLine(right).response, "+OK+"));
  EXPECT_TRUE(absl::StartsWith(session.HandleLine(right).response, "+OK+"));
  EXPECT_EQ(session.HandleLine(kFailures[1]).response, mtqp::kNoInfoLine);
  EXPECT_EQ(session.HandleLine(right).response, mtqp::kRateLimitedLine);
}

}  // namespace
}  // namespace mtrk::gateway::server
