// The originator's side: new A/B/ENVID, the secret store, mtqp:// URIs (DIGEST §7 items 56-58).
#include "mtqp-gateway/client/originator.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <sstream>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/model/hop_event.h"
#include "common/net/certifier.h"
#include "gtest/gtest.h"
#include "mtqp-gateway/client/track_command.h"
#include "tests/support/status_matchers.h"

namespace mtrk::gateway::client {
namespace {

TEST(MtqpUriTest, Item56_ParsesAndDecodesPercentEscapes) {
  ASSERT_OK_AND_ASSIGN(MtqpUri u,
                       ParseMtqpUri("mtqp://h.example:1039/track/a%25b@h.example/ab+c%2Fd=="));
  EXPECT_EQ(u.host, "h.example");
  EXPECT_EQ(u.port, "1039");
  EXPECT_EQ(u.envid, "a%b@h.example");
  EXPECT_EQ(u.secret_base64, "ab+c/d==");
  ASSERT_OK_AND_ASSIGN(u, ParseMtqpUri("mtqp://[::1]/TRACK/E@x/c2VjcmV0"));  // case-insensitive
  EXPECT_EQ(u.host, "::1");
  EXPECT_EQ(u.port, "1038");
  EXPECT_EQ(u.envid, "E@x");  // ENVID case kept
  for (const char* bad : {"http://h/track/e/s", "mtqp://h/trak/e/s", "mtqp://h/track/e",
                          "mtqp://h/track/e/s/x", "mtqp://h:0/track/e/s", "mtqp://h/track/e%2/s"}) {
    EXPECT_THAT(ParseMtqpUri(bad), test::StatusIs(absl::StatusCode::kInvalidArgument)) << bad;
  }
  // mtrk-track takes the URI in place of --server ENVID SECRET.
  ASSERT_OK_AND_ASSIGN(
      TrackOptions o,
      ParseTrackArgs(std::vector<std::string>{"mtqp://h.example:1039/track/e@h/YWJj%2FZA"}));
  EXPECT_EQ(o.host, "h.example");
  EXPECT_EQ(o.port, "1039");
  EXPECT_EQ(o.envid, "e@h");
  EXPECT_EQ(o.secret_base64, "YWJj/ZA");
}

TEST(NewTrackingIdsTest, Item57_RandomSecretUnpaddedCertifierAndEnvidTogether) {
  ASSERT_OK_AND_ASSIGN(TrackingIds a, NewTrackingIds("host.a.example"));
  ASSERT_OK_AND_ASSIGN(TrackingIds b, NewTrackingIds("host.a.example"));
  EXPECT_EQ(a.secret.size(), kNewSecretBytes);
  EXPECT_GE(a.secret.size(), net::kMinSecretBytes);
  EXPECT_LE(a.secret.size(), net::kMaxSecretBytes);
  EXPECT_NE(a.secret, b.secret);
  EXPECT_NE(a.envid, b.envid);
  EXPECT_EQ(a.certifier.size(), 27u);  // 20 octets, unpadded
  EXPECT_FALSE(absl::StrContains(a.certifier, "="));
  std::string raw_certifier;
  ASSERT_TRUE(net::DecodeBase64Strict(a.certifier, &raw_certifier));
  EXPECT_TRUE(net::SecretMatchesCertifier(a.secret, raw_certifier));
  std::string decoded;
  ASSERT_TRUE(net::DecodeBase64Strict(a.secret_base64, &decoded));
  EXPECT_EQ(decoded, a.secret);
  const std::string params = MailFromParameters(a);
  EXPECT_TRUE(absl::StartsWith(params, absl::StrCat("ENVID=", a.envid, " MTRK=")));
  EXPECT_EQ(TrackingHeader(a),
            absl::StrCat("X-MTRK: envid=", a.envid, "; certifier=", a.certifier));
  EXPECT_TRUE(absl::EndsWith(a.envid, "@host.a.example"));
}

TEST(NewTrackingIdsTest, Item58_LongFqhnBecomesBase64OfSha1) {
  const std::string fqhn = absl::StrCat(std::string(80, 'h'), ".example");
  const std::string local = "20261123T000000.0123456789abcdef01";
  const std::string envid = MakeUniqueEnvid(local, fqhn);
  EXPECT_LE(envid.size(), model::kMaxEnvidBytes);
  EXPECT_EQ(envid, absl::StrCat(local, "@", net::EncodeBase64Unpadded(net::CertifierOf(fqhn))));
  EXPECT_EQ(MakeUniqueEnvid(local, "short.example"), absl::StrCat(local, "@short.example"));
  // A local part too long even then is cut, never the whole over 100.
  EXPECT_LE(MakeUniqueEnvid(std::string(200, 'l'), fqhn).size(), model::kMaxEnvidBytes);
}

TEST(SecretStoreTest, Item57_StoredWithMode0600AndFoundByEnvid) {
  const std::string dir =
      (std::filesystem::temp_directory_path() / absl::StrCat("mtrk-store-", getpid())).string();
  const std::string path = absl::StrCat(dir, "/secrets");
  ASSERT_OK(StoreSecret(path, "e1@h", "c2VjcmV0MQ=="));
  ASSERT_OK(StoreSecret(path, "e2@h", "c2VjcmV0Mg=="));
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  ASSERT_EQ(stat(dir.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700);
  EXPECT_THAT(LookupSecret(path, "e2@h"), test::IsOkAndHolds(std::string("c2VjcmV0Mg==")));
  EXPECT_THAT(LookupSecret(path, "E2@h"), test::StatusIs(absl::StatusCode::kNotFound));
  chmod(path.c_str(), 0644);  // readable by others: refused
  EXPECT_THAT(LookupSecret(path, "e2@h"), test::StatusIs(absl::StatusCode::kPermissionDenied));
  std::filesystem::remove_all(dir);
}

TEST(RunNewTest, PrintsHeaderAndParametersAndKeepsTheSecret) {
  const std::string home =
      (std::filesystem::temp_directory_path() / absl::StrCat("mtrk-home-", getpid())).string();
  setenv("MTRK_HOME", home.c_str(), 1);
  std::ostringstream out, err;
  ASSERT_EQ(RunNew(std::vector<std::string>{"--fqhn", "host.a.example"}, out, err), kExitFound)
      << err.str();
  EXPECT_TRUE(absl::StartsWith(out.str(), "X-MTRK: envid=")) << out.str();
  EXPECT_TRUE(absl::StrContains(out.str(), " MTRK=")) << out.str();
  const size_t at = out.str().find("envid: ");
  const std::string envid = out.str().substr(at + 7, out.str().find('\n', at) - at - 7);
  // `mtrk-track ENVID` finds the kept secret.
  ASSERT_OK_AND_ASSIGN(TrackOptions o, ParseTrackArgs(std::vector<std::string>{envid}));
  std::string secret;
  ASSERT_TRUE(net::DecodeBase64Strict(o.secret_base64, &secret));
  EXPECT_EQ(secret.size(), kNewSecretBytes);
  unsetenv("MTRK_HOME");
  std::filesystem::remove_all(home);
}

}  // namespace
}  // namespace mtrk::gateway::client
