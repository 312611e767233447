#include "mtqp-gateway/server/mtqp_server.h"

#include <array>
#include <string_view>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "asio.hpp"
#include "asio/ssl.hpp"
#include "common/log/rate_limited_log.h"
#include "mtqp-gateway/mtqp/command_parser.h"
#include "mtqp-gateway/mtqp/line_assembler.h"
#include "mtqp-gateway/server/tls_context.h"

namespace mtrk::gateway::server {
namespace {

using asio::ip::tcp;

// One client connection. Asio handlers keep it alive through shared_from_this: its lifetime ends
// with the last pending operation, which the owner cannot know (the usual Asio ownership idiom).
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(tcp::socket socket, asio::thread_pool& lookups, const ServerOptions& options,
             const mtqp::SessionOptions& session_options,
             std::shared_ptr<asio::ssl::context> tls_context, mtqp::TrackLookup& lookup,
             std::string client, bool over_connection_limit)
      : strand_(asio::make_strand(socket.get_executor())),
        socket_(std::move(socket)),
        tls_context_(std::move(tls_context)),
        timer_(strand_),
        lookups_(lookups),
        idle_timeout_(absl::ToChronoSeconds(options.idle_timeout)),
        assembler_(mtqp::kMaxLineBytes),
        session_(session_options, lookup),
        over_connection_limit_(over_connection_limit) {
    session_.set_client(std::move(client));
  }

  void Start() {
    asio::dispatch(strand_, [self = shared_from_this()] {
      if (self->closed_) return;  // Stop() came first
      self->ResetIdleTimer();
      if (self->over_connection_limit_) {
        self->Write(std::string(mtqp::kTooManyConnectionsGreeting), mtqp::Session::Next::kClose);
        return;
      }
      self->Write(self->session_.Greeting(), mtqp::Session::Next::kContinue);
    });
  }

  // From any thread: close the socket on the strand.
  void Close() {
    asio::post(strand_, [self = shared_from_this()] { self->Shutdown(); });
  }

 private:
  void ResetIdleTimer() {
    timer_.expires_after(idle_timeout_);
    timer_.async_wait([self = shared_from_this()](const std::error_code& ec) {
      if (!ec) self->Shutdown();  // idle: RFC 3887 §2.5 autologout
    });
  }

  void Shutdown() {
    if (closed_) return;
    closed_ = true;
    std::error_code ignored;
    timer_.cancel();
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
  }

  // Handles buffered lines one at a time; reads more only when none is pending (back-pressure).
  void ProcessNext() {
    if (closed_) return;
    std::optional<mtqp::LineAssembler::Event> event = assembler_.Next();
    if (!event.has_value()) {
      Read();
      return;
    }
    ResetIdleTimer();  // any command resets the idle timer (RFC 3887 §2.5)
    if (event->kind == mtqp::LineAssembler::Event::Kind::kTooLong) {
      mtqp::Session::Reply reply = session_.HandleTooLongLine();
      Write(std::move(reply.response), reply.next);
      return;
    }
    // The session may block on the collector: run it on the lookup pool, answer on the strand.
    // Only one command per connection is in flight, so the session is never used concurrently.
    asio::post(lookups_, [self = shared_from_this(), line = std::move(event->line)] {
      mtqp::Session::Reply reply = self->session_.HandleLine(line);
      asio::post(self->strand_, [self, reply = std::move(reply)]() mutable {
        self->Write(std::move(reply.response), reply.next);
      });
    });
  }

  void Read() {
    auto handler = asio::bind_executor(
        strand_, [self = shared_from_this()](const std::error_code& ec, size_t n) {
          if (ec) {
            self->Shutdown();  // EOF, reset, or closed by Stop/idle timer
            return;
          }
          self->assembler_.Feed(absl::string_view(self->read_buffer_.data(), n));
          self->ProcessNext();
        });
    if (tls_) {
      tls_->async_read_some(asio::buffer(read_buffer_), std::move(handler));
    } else {
      socket_.async_read_some(asio::buffer(read_buffer_), std::move(handler));
    }
  }

  void Write(std::string response, mtqp::Session::Next next) {
    if (closed_) return;
    out_ = std::move(response);
    auto handler = asio::bind_executor(
        strand_, [self = shared_from_this(), next](const std::error_code& ec, size_t /*n*/) {
          if (ec || next == mtqp::Session::Next::kClose) {
            self->Shutdown();
            return;
          }
          if (next == mtqp::Session::Next::kStartTls) {
            self->StartTls();
            return;
          }
          self->ProcessNext();
        });
    if (tls_) {
      asio::async_write(*tls_, asio::buffer(out_), std::move(handler));
    } else {
      asio::async_write(socket_, asio::buffer(out_), std::move(handler));
    }
  }

  // After "+OK" to STARTTLS. Whatever clear text the client sent after STARTTLS is already in the
  // assembler: a fresh assembler forgets it, so injected commands never run (DIGEST §6.14). Bytes
  // not yet read stay in the kernel and become the start of the handshake.
  void StartTls() {
    assembler_.Clear();
    tls_ = std::make_unique<asio::ssl::stream<tcp::socket&>>(socket_, *tls_context_);
    tls_->async_handshake(
        asio::ssl::stream_base::server,
        asio::bind_executor(strand_, [self = shared_from_this()](const std::error_code& ec) {
          if (ec) {
            self->Shutdown();  // RFC 3887 §6.1: a failed handshake drops the connection
            return;
          }
          self->session_.TlsEstablished();
          self->ResetIdleTimer();
          self->Write(self->session_.Greeting(), mtqp::Session::Next::kContinue);
        }));
  }

  asio::strand<asio::any_io_executor> strand_;
  tcp::socket socket_;
  std::shared_ptr<asio::ssl::context> tls_context_;
  std::unique_ptr<asio::ssl::stream<tcp::socket&>> tls_;  // set by StartTls
  asio::steady_timer timer_;
  asio::thread_pool& lookups_;
  const std::chrono::seconds idle_timeout_;
  mtqp::LineAssembler assembler_;
  mtqp::Session session_;
  std::array<char, 4096> read_buffer_;
  std::string out_;
  const bool over_connection_limit_;
  bool closed_ = false;
};

// The failed-TRACK limiter as the session sees it: a refusal (answered -TEMP/admin) is also
// logged. The session is pure protocol (STYLE §1) and does not log.
class LoggedTrackLimiter : public mtqp::TrackLimiter {
 public:
  LoggedTrackLimiter(ClientRateLimiter& limiter, mtrk::log::RateLimitedLog& log)
      : limiter_(limiter), log_(log) {}

  bool TryAcquire(absl::string_view client) override {
    if (limiter_.TryAcquire(client)) return true;
    // Allow() and spdlog directly: RateLimitedLog::Log cannot format its absl::string_view key
    // with Debian's fmt 9 (reported; common/log is not ours to change here).
    if (uint64_t suppressed = 0; log_.Allow("failed-track-limit", &suppressed)) {
      spdlog::warn(
          "mtqp: client {} is over the failed-TRACK limit, answered -TEMP/admin ({} refused so "
          "far, {} such lines suppressed)",
          std::string_view(client.data(), client.size()), limiter_.refused(), suppressed);
    }
    return false;
  }
  void Refund(absl::string_view client) override { limiter_.Refund(client); }

 private:
  ClientRateLimiter& limiter_;
  mtrk::log::RateLimitedLog& log_;
};

}  // namespace

struct MtqpServer::State {
  State(const ServerOptions& o, mtqp::TrackLookup& l)
      : options(o),
        session_options(o.session),
        lookup(l),
        connection_limiter(o.connection_limit, o.rate_limit_clients),
        failed_track_limiter(o.failed_track_limit, o.rate_limit_clients),
        logged_track_limiter(failed_track_limiter, refusal_log),
        acceptor(asio::make_strand(io)),  // the strand serialises accept handlers and Stop's close
        lookups(static_cast<size_t>(o.lookup_threads)) {
    if (o.failed_track_limit.enabled()) session_options.track_limiter = &logged_track_limiter;
  }

  void Accept() {
    // Each socket gets the plain io executor; Connection wraps it in its own strand.
    acceptor.async_accept(io, [this](const std::error_code& ec, tcp::socket socket) {
      if (!acceptor.is_open()) return;
      if (!ec) {
        std::error_code peer_ec;
        const tcp::endpoint peer = socket.remote_endpoint(peer_ec);
        // A socket already reset has no peer; it fails at its first read anyway.
        std::string client = peer_ec ? std::string("?") : ClientKey(peer.address());
        const bool over_limit = !connection_limiter.TryAcquire(client);
        if (over_limit) {
          if (uint64_t suppressed = 0; refusal_log.Allow("connection-limit", &suppressed)) {
            spdlog::warn(
                "mtqp: client {} is over the connection limit, answered -TEMP/MTQP/admin ({} "
                "refused so far, {} such lines suppressed)",
                client, connection_limiter.refused(), suppressed);
          }
        }
        auto connection =
            std::make_shared<Connection>(std::move(socket), lookups, options, session_options,
                                         tls.context, lookup, std::move(client), over_limit);
        {
          absl::MutexLock lock(&mu);
          if (stopped) return;  // Stop() already took the list; the socket closes with us
          // Prune finished connections so the list does not grow with the connection count.
          std::erase_if(connections,
                        [](const std::weak_ptr<Connection>& c) { return c.expired(); });
          connections.push_back(connection);
        }
        connection->Start();
      }
      if (!ec || ec == asio::error::connection_aborted) {
        Accept();
        return;
      }
      // EMFILE, ENOBUFS: retrying at once would spin; pause, then keep listening.
      accept_backoff.expires_after(std::chrono::milliseconds(100));
      accept_backoff.async_wait([this](const std::error_code& wait_ec) {
        if (!wait_ec && acceptor.is_open()) Accept();
      });
    });
  }

  const ServerOptions options;
  mtqp::SessionOptions session_options;  // options.session plus what the certificate says
  ServerTls tls;                         // context null without TLS
  mtqp::TrackLookup& lookup;
  // Before io and lookups, so they outlive the sessions that use them.
  // A flood from many addresses must not flood the log: a few lines a minute per kind of
  // refusal, then a count of those left out; the limiters' refused() carry the totals.
  mtrk::log::RateLimitedLog refusal_log{5, absl::Minutes(1)};
  ClientRateLimiter connection_limiter;
  ClientRateLimiter failed_track_limiter;
  LoggedTrackLimiter logged_track_limiter;
  // Declaration order is destruction order in reverse: lookups (joined) before io.
  asio::io_context io;
  tcp::acceptor acceptor;
  asio::steady_timer accept_backoff{acceptor.get_executor()};
  asio::thread_pool lookups;
  std::vector<std::thread> threads;
  tcp::endpoint bound;
  absl::Mutex mu;
  std::vector<std::weak_ptr<Connection>> connections ABSL_GUARDED_BY(mu);
  bool stopped ABSL_GUARDED_BY(mu) = false;
};

absl::Status ValidateServerOptions(const ServerOptions& options) {
  if (options.idle_timeout < absl::Minutes(10)) {
    return absl::InvalidArgumentError(
        "server: idle timeout must be at least 600 s (RFC 3887 §2.5)");
  }
  if (options.io_threads < 1 || options.lookup_threads < 1) {
    return absl::InvalidArgumentError("server: thread counts must be at least 1");
  }
  if (options.session.max_commands < 1 || options.session.max_bad_commands < 0) {
    return absl::InvalidArgumentError("server: bad command limits");
  }
  if (options.connection_limit.burst < 0 || options.failed_track_limit.burst < 0 ||
      options.connection_limit.period <= absl::ZeroDuration() ||
      options.failed_track_limit.period <= absl::ZeroDuration() || options.rate_limit_clients < 1) {
    return absl::InvalidArgumentError("server: bad rate limits");
  }
  if (options.tls_cert_file.empty() != options.tls_key_file.empty()) {
    return absl::InvalidArgumentError("server: a TLS certificate needs its key, and vice versa");
  }
  if (!options.tls_client_ca_file.empty() && options.tls_cert_file.empty()) {
    return absl::InvalidArgumentError("server: a client CA needs a server certificate");
  }
  if (options.session.tls_required && options.tls_cert_file.empty()) {
    return absl::InvalidArgumentError("server: TLS required but no certificate configured");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<MtqpServer>> MtqpServer::Start(const ServerOptions& options,
                                                              mtqp::TrackLookup& lookup) {
  if (absl::Status s = ValidateServerOptions(options); !s.ok()) return s;
  auto state = std::make_unique<State>(options, lookup);
  if (!options.tls_cert_file.empty()) {
    absl::StatusOr<ServerTls> server_tls =
        MakeServerTls(options.tls_cert_file, options.tls_key_file, options.tls_client_ca_file);
    if (!server_tls.ok()) return server_tls.status();
    state->tls = *std::move(server_tls);
    state->session_options.tls_available = true;  // RFC 3887 §3: listed whenever a cert is
    state->session_options.certificate_names = state->tls.dns_names;
  }
  std::error_code ec;
  tcp::resolver resolver(state->io);
  const auto results =
      resolver.resolve(options.listen_host, std::to_string(options.listen_port),
                       tcp::resolver::passive | tcp::resolver::numeric_service, ec);
  if (ec || results.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("server: cannot resolve listen address '",
                                                   options.listen_host, "': ", ec.message()));
  }
  const tcp::endpoint endpoint = results.begin()->endpoint();
  const auto fail = [&](absl::string_view what) {
    return absl::UnavailableError(absl::StrCat("server: ", what, " ",
                                               endpoint.address().to_string(), ":", endpoint.port(),
                                               ": ", ec.message()));
  };
  if (state->acceptor.open(endpoint.protocol(), ec); ec) return fail("open");
  if (state->acceptor.set_option(tcp::acceptor::reuse_address(true), ec); ec) return fail("set");
  if (state->acceptor.bind(endpoint, ec); ec) return fail("bind");
  if (state->acceptor.listen(asio::socket_base::max_listen_connections, ec); ec) {
    return fail("listen");
  }
  state->bound = state->acceptor.local_endpoint(ec);
  if (ec) return fail("local endpoint of");
  state->Accept();
  for (int i = 0; i < options.io_threads; ++i) {
    state->threads.emplace_back([s = state.get()] { s->io.run(); });
  }
  return std::unique_ptr<MtqpServer>(new MtqpServer(std::move(state)));
}

MtqpServer::MtqpServer(std::unique_ptr<State> state) : state_(std::move(state)) {}

MtqpServer::~MtqpServer() { Stop(); }

uint16_t MtqpServer::port() const { return state_->bound.port(); }

std::string MtqpServer::endpoint() const {
  const asio::ip::address a = state_->bound.address();
  return a.is_v6() ? absl::StrCat("[", a.to_string(), "]:", port())
                   : absl::StrCat(a.to_string(), ":", port());
}

const ClientRateLimiter& MtqpServer::connection_limiter() const {
  return state_->connection_limiter;
}

const ClientRateLimiter& MtqpServer::failed_track_limiter() const {
  return state_->failed_track_limiter;
}

void MtqpServer::Stop() {
  std::vector<std::weak_ptr<Connection>> connections;
  {
    absl::MutexLock lock(&state_->mu);
    if (state_->stopped) return;
    state_->stopped = true;
    connections.swap(state_->connections);
  }
  asio::post(state_->acceptor.get_executor(), [s = state_.get()] {
    std::error_code ignored;
    s->acceptor.close(ignored);
    s->accept_backoff.cancel();
  });
  for (const std::weak_ptr<Connection>& c : connections) {
    if (std::shared_ptr<Connection> connection = c.lock()) connection->Close();
  }
  // Lookups in flight finish (bounded by the lookup deadline); queued ones are dropped. Once every
  // socket is closed and every timer cancelled, the I/O threads run out of work and return; no
  // io.stop(), which could drop the close handlers and leave clients connected.
  state_->lookups.stop();
  state_->lookups.join();
  for (std::thread& t : state_->threads) t.join();
}

}  // namespace mtrk::gateway::server
