// The mtrk-collector binary: start on an empty database, serve, stop on SIGTERM.
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "collector/app/collector_app.h"
#include "collector/testing/sample_events.h"
#include "common/model/hop_event_proto.h"
#include "gmock/gmock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "mtrk/v1/ingest.grpc.pb.h"
#include "tests/support/pg_environment.h"
#include "tests/support/status_matchers.h"

namespace mtrk::collector::app {
namespace {

// A child mtrk-collector with its stdout on a pipe.
class CollectorProcess {
 public:
  explicit CollectorProcess(std::vector<std::string> args) {
    int fds[2];
    if (::pipe(fds) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(fds[1], STDOUT_FILENO);
      ::close(fds[0]);
      ::close(fds[1]);
      std::vector<char*> argv;
      std::string binary = MTRK_COLLECTOR_BINARY;
      argv.push_back(binary.data());
      for (std::string& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(binary.c_str(), argv.data());
      ::_exit(127);
    }
    ::close(fds[1]);
    out_ = fds[0];
  }
  ~CollectorProcess() {
    if (pid_ > 0 && !reaped_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (out_ >= 0) ::close(out_);
  }

  // The next stdout line, or "" at EOF or after 60 s without output (a deadline, not a timing
  // assertion: a healthy start takes well under a second).
  std::string ReadLine() {
    std::string line;
    char c;
    while (true) {
      pollfd p{.fd = out_, .events = POLLIN, .revents = 0};
      if (::poll(&p, 1, 60000) <= 0) return line;
      if (::read(out_, &c, 1) != 1) return line;
      if (c == '\n') return line;
      line.push_back(c);
    }
  }

  // Sends `signal` (if nonzero) and returns the exit status, or -1 if killed by a signal.
  int Stop(int signal) {
    if (signal != 0) ::kill(pid_, signal);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    reaped_ = true;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

 private:
  pid_t pid_ = -1;
  int out_ = -1;
  bool reaped_ = false;
};

TEST(CollectorMainTest, MigratesServesAndStopsCleanlyOnSigterm) {
  ASSERT_OK_AND_ASSIGN(const test::PgDatabase db, test::PgEnvironment::Get().NewEmptyDatabase());
  for (int run = 0; run < 2; ++run) {  // the second start finds the schema migrated
    SCOPED_TRACE(run);
    CollectorProcess collector({"--listen", "127.0.0.1:0", "--db", db.conninfo()});
    const std::string line = collector.ReadLine();
    ASSERT_TRUE(absl::StartsWith(line, "mtrk-collector listening on 127.0.0.1:")) << line;
    int port = 0;
    ASSERT_TRUE(absl::SimpleAtoi(line.substr(line.rfind(':') + 1), &port)) << line;
    EXPECT_GT(port, 0);

    {  // the channel closes before SIGTERM, so shutdown has no connection to drain
      auto stub = v1::Ingest::NewStub(grpc::CreateChannel(absl::StrCat("127.0.0.1:", port),
                                                          grpc::InsecureChannelCredentials()));
      v1::PushEventsRequest request;
      request.set_batch_sequence(42);
      model::ToProto(testing::Delivered(), request.add_events());
      v1::PushEventsResponse response;
      grpc::ClientContext context;
      const grpc::Status status = stub->PushEvents(&context, request, &response);
      ASSERT_TRUE(status.ok()) << status.error_message();
      EXPECT_EQ(response.acked_sequence(), 42u);
      EXPECT_EQ(response.stored_events(), run == 0 ? 1u : 0u);
    }
    EXPECT_EQ(collector.Stop(SIGTERM), 0);
  }
}

TEST(CollectorMainTest, BadFlagsExitWithUsage) {
  CollectorProcess collector({"--listen", "127.0.0.1:0", "--bogus"});
  EXPECT_EQ(collector.Stop(0), 2);
}

TEST(CollectorMainTest, UnreachableDatabaseFailsStartup) {
  CollectorProcess collector(
      {"--listen", "127.0.0.1:0", "--db", "host=127.0.0.1 port=1 user=postgres dbname=x"});
  EXPECT_EQ(collector.Stop(0), 1);
}

TEST(CollectorFlagsTest, ParsesBothFlagForms) {
  ASSERT_OK_AND_ASSIGN(const CollectorFlags flags,
                       ParseCollectorFlags({"--listen=127.0.0.1:0", "--db", "dbname=x",
                                            "--migrations", "/m", "--log-level=debug"}));
  EXPECT_EQ(flags.listen, "127.0.0.1:0");
  EXPECT_EQ(flags.db, "dbname=x");
  EXPECT_EQ(flags.migrations_dir, "/m");
  EXPECT_EQ(flags.log_level, "debug");
  EXPECT_THAT(ParseCollectorFlags({"--db", "dbname=x"}),
              test::StatusIs(absl::StatusCode::kInvalidArgument));  // no --listen
  EXPECT_THAT(ParseCollectorFlags({"--listen", "127.0.0.1:0", "--db"}),
              test::StatusIs(absl::StatusCode::kInvalidArgument));  // no value
  EXPECT_THAT(ParseCollectorFlags({"--listen", "a:1", "--db", "x", "--log-level", "loud"}),
              test::StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseCollectorFlags({"--listen", "a:1", "--db", "x", "--log-format", "xml"}),
              test::StatusIs(absl::StatusCode::kInvalidArgument));
  ASSERT_OK_AND_ASSIGN(const CollectorFlags json,
                       ParseCollectorFlags({"--listen", "a:1", "--db", "x", "--log-format=json"}));
  EXPECT_EQ(json.log_format, "json");
}

}  // namespace
}  // namespace mtrk::collector::app
