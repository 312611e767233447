#include "common/log/logging.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "common/log/rate_limited_log.h"
#include "gtest/gtest.h"
#include "spdlog/spdlog.h"
#include "tests/support/status_matchers.h"

namespace mtrk::log {
namespace {

TEST(LoggingTest, UnknownLevelAndFormatAreErrorsNotSilence) {
  EXPECT_OK(ValidateLevel("debug"));
  EXPECT_OK(ValidateLevel("off"));
  EXPECT_FALSE(ValidateLevel("verbose").ok());
  Format format = Format::kText;
  EXPECT_OK(ParseFormat("json", &format));
  EXPECT_EQ(format, Format::kJson);
  EXPECT_FALSE(ParseFormat("xml", &format).ok());
  EXPECT_FALSE(InitLogging("mtrk-test", {.level = "loud"}).ok());
}

// stderr redirected to a file for the duration of `body`; returns what was written.
template <typename Body>
std::string CaptureStderr(Body body) {
  std::fflush(stderr);
  char path[] = "/tmp/mtrk-log-test-XXXXXX";
  const int fd = mkstemp(path);
  const int saved = dup(2);
  dup2(fd, 2);
  body();
  std::fflush(stderr);
  dup2(saved, 2);
  close(saved);
  close(fd);
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  unlink(path);
  return text.str();
}

TEST(LoggingTest, JsonLinesEscapeWhateverTheMessageHolds) {
  const std::string out = CaptureStderr([] {
    ASSERT_OK(InitLogging("mtrk-test", {.level = "info", .format = Format::kJson}));
    spdlog::info("line \"{}\" with \\ and {}", "quoted", "tab\there");
    spdlog::debug("below the level");
    spdlog::default_logger()->flush();
  });
  EXPECT_NE(out.find(R"("level":"info")"), std::string::npos) << out;
  EXPECT_NE(out.find(R"("logger":"mtrk-test")"), std::string::npos) << out;
  EXPECT_NE(out.find(R"("msg":"line \"quoted\" with \\ and tab\u0009here"})"), std::string::npos)
      << out;
  EXPECT_EQ(out.find("below the level"), std::string::npos) << out;
}

TEST(LoggingTest, TextLinesNameTheBinaryAndLevel) {
  const std::string out = CaptureStderr([] {
    ASSERT_OK(InitLogging("mtrk-test", {.level = "warn"}));
    spdlog::warn("spool full");
    spdlog::info("not shown");
    spdlog::default_logger()->flush();
  });
  EXPECT_NE(out.find("mtrk-test["), std::string::npos) << out;
  EXPECT_NE(out.find("warning: spool full"), std::string::npos) << out;
  EXPECT_EQ(out.find("not shown"), std::string::npos) << out;
}

TEST(LoggingTest, RateLimitedLogWritesTheBurstThenTheSuppressedCount) {
  absl::Time now = absl::FromUnixSeconds(1'700'000'000);
  RateLimitedLog limited(1, absl::Seconds(60), [&now] { return now; });
  const std::string out = CaptureStderr([&] {
    ASSERT_OK(InitLogging("mtrk-test", {.level = "info"}));
    for (int i = 0; i < 3; ++i) limited.Log(spdlog::level::warn, "retry", "push failed {}", i);
    now += absl::Seconds(60);
    limited.Log(spdlog::level::warn, "retry", "push failed {}", 3);
    spdlog::default_logger()->flush();
  });
  EXPECT_NE(out.find("push failed 0"), std::string::npos) << out;
  EXPECT_EQ(out.find("push failed 1"), std::string::npos) << out;
  EXPECT_NE(out.find("push failed 3"), std::string::npos) << out;
  EXPECT_NE(out.find("(2 similar 'retry' messages suppressed)"), std::string::npos) << out;
}

}  // namespace
}  // namespace mtrk::log
