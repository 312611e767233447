// mtrk-track end to end against an in-process server with a fake lookup.
#include "mtqp-gateway/client/track_command.h"

#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "mtqp-gateway/server/mtqp_server.h"
#include "tests/support/status_matchers.h"

namespace mtrk::gateway::client {
namespace {

constexpr absl::string_view kEnvid = "20261123.a1b2c3@a.example";
constexpr absl::string_view kSecretB64 = "jztaHJ0uT2BxgpOktcbX6A==";

class FakeLookup : public mtqp::TrackLookup {
 public:
  absl::StatusOr<std::vector<model::HopEvent>> Track(absl::string_view envid,
                                                     absl::string_view secret) override {
    if (unavailable) return absl::UnavailableError("collector down");
    if (envid != kEnvid || secret.size() != 16) return absl::NotFoundError("no");
    model::HopEvent a;
    a.reporting_mta = "mta-a.a.example";
    a.envid = std::string(envid);
    a.original_recipient = a.final_recipient = "alice@b.example";
    a.action = model::DsnAction::kTransferred;
    a.status = "2.0.0";
    a.remote_mta = "127.0.0.2";
    a.arrival_time = absl::FromUnixSeconds(1795415220);
    a.last_attempt_time = absl::FromUnixSeconds(1795415225);
    model::HopEvent b = a;
    b.reporting_mta = "mta-b.b.example";
    b.action = model::DsnAction::kDelivered;
    b.remote_mta.clear();
    b.arrival_time = absl::FromUnixSeconds(1795415226);
    b.last_attempt_time = absl::FromUnixSeconds(1795415227);
    return std::vector<model::HopEvent>{a, b};
  }
  bool unavailable = false;
};

class TrackCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server::ServerOptions options;
    options.listen_host = "127.0.0.1";
    options.listen_port = 0;
    ASSERT_OK_AND_ASSIGN(server_, server::MtqpServer::Start(options, lookup_));
  }
  int Run(std::vector<std::string> args) {
    args.insert(args.begin(), {"--server", absl::StrCat("127.0.0.1:", server_->port())});
    absl::StatusOr<TrackOptions> options = ParseTrackArgs(args);
    if (!options.ok()) return -1;
    out_.str("");
    err_.str("");
    return RunTrack(*options, out_, err_);
  }
  FakeLookup lookup_;
  std::unique_ptr<server::MtqpServer> server_;
  std::ostringstream out_, err_;
};

TEST_F(TrackCommandTest, FoundPrintsOneLinePerRecipientPerMta) {
  EXPECT_EQ(Run({std::string(kEnvid), std::string(kSecretB64)}), kExitFound) << err_.str();
  EXPECT_EQ(out_.str(),
            "ENVID 20261123.a1b2c3@a.example\n"
            "mta-a.a.example  alice@b.example  transferred  2.0.0  2026-11-23T06:27:05Z  "
            "remote=127.0.0.2\n"
            "mta-b.b.example  alice@b.example  delivered  2.0.0  2026-11-23T06:27:07Z\n");
}

TEST_F(TrackCommandTest, Json) {
  EXPECT_EQ(Run({"--json", std::string(kEnvid), std::string(kSecretB64)}), kExitFound);
  EXPECT_TRUE(absl::StartsWith(out_.str(),
                               "{\"envid\":\"20261123.a1b2c3@a.example\",\"result\":\"found\","
                               "\"parts\":[{\"original_envelope_id\":"))
      << out_.str();
  EXPECT_TRUE(absl::StrContains(out_.str(), "\"remote_mta\":\"127.0.0.2\""));
  EXPECT_TRUE(absl::StrContains(out_.str(), "\"last_attempt_date\":\"2026-11-23T06:27:05Z\""));
}

TEST_F(TrackCommandTest, NoInfoExitsOne) {
  EXPECT_EQ(Run({"other@a.example", std::string(kSecretB64)}), kExitNoInfo);
  EXPECT_EQ(Run({"--json", "other@a.example", std::string(kSecretB64)}), kExitNoInfo);
  EXPECT_EQ(out_.str(), "{\"envid\":\"other@a.example\",\"result\":\"noinfo\",\"parts\":[]}\n");
}

TEST_F(TrackCommandTest, TempFailureExitsTwo) {
  lookup_.unavailable = true;
  EXPECT_EQ(Run({std::string(kEnvid), std::string(kSecretB64)}), kExitError);
  EXPECT_TRUE(absl::StrContains(err_.str(), "-TEMP/unavailable")) << err_.str();
}

TEST(TrackArgsTest, Usage) {
  using Args = std::vector<std::string>;
  ASSERT_OK_AND_ASSIGN(TrackOptions o, ParseTrackArgs(Args{"e@a", "YWJjZA=="}));
  EXPECT_EQ(o.host, "localhost");
  EXPECT_EQ(o.port, "1038");
  ASSERT_OK_AND_ASSIGN(o, ParseTrackArgs(Args{"--server=[::1]:1039", "--json", "e@a", "YWJjZA"}));
  EXPECT_EQ(o.host, "::1");
  EXPECT_EQ(o.port, "1039");
  EXPECT_TRUE(o.json);
  ASSERT_OK_AND_ASSIGN(o, ParseTrackArgs(Args{"--server", "mtqp.a.example", "e@a", "YWJjZA"}));
  EXPECT_EQ(o.host, "mtqp.a.example");
  EXPECT_EQ(o.port, "1038");
  for (const Args& bad : {Args{"e@a"}, Args{"e@a", "YW-_"},
                          Args{"--server", "h:99999", "e", "YWJj"}, Args{"--frob", "e", "YWJj"}}) {
    EXPECT_THAT(ParseTrackArgs(bad), test::StatusIs(absl::StatusCode::kInvalidArgument));
  }
}

TEST(TrackFormatTest, Dates) {
  EXPECT_EQ(ToIsoUtc("Mon, 23 Nov 2026 06:27:05 +0000"), "2026-11-23T06:27:05Z");
  EXPECT_EQ(ToIsoUtc("Mon,  1 Jan 2001 15:15:15 -0500"), "2001-01-01T20:15:15Z");
  EXPECT_EQ(ToIsoUtc("1 Jan 2001 15:15:15 +0100 (CET)"), "2001-01-01T14:15:15Z");
  EXPECT_EQ(ToIsoUtc("yesterday at noon"), "yesterday_at_noon");
}

}  // namespace
}  // namespace mtrk::gateway::client
