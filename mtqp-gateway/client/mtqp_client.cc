#include "mtqp-gateway/client/mtqp_client.h"

#include <chrono>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "asio.hpp"
#include "asio/ssl.hpp"
#include "common/base/status_macros.h"
#include "mtqp-gateway/mtqp/multiline.h"
#include "mtqp-gateway/server/tls_context.h"

namespace mtrk::gateway::client {
namespace {

using asio::ip::tcp;

// Bounds on what a server can make us hold: a response line may be 998 characters (RFC 3887
// §2.3); we allow some slack for sloppy servers. A whole answer is capped too.
constexpr size_t kMaxLineBytes = 8192;
constexpr size_t kMaxBodyBytes = 16 << 20;

}  // namespace

struct MtqpClient::Io {
  asio::io_context io;
  tcp::socket socket{io};
  std::unique_ptr<asio::ssl::stream<tcp::socket&>> tls;  // after StartTls
  asio::streambuf in{kMaxLineBytes + 2};

  // Calls f with the stream all protocol bytes go through: the TLS stream once it is up.
  template <typename F>
  void WithStream(F&& f) {
    if (tls) {
      f(*tls);
    } else {
      f(socket);
    }
  }

  // Runs the io_context until `done` or the deadline; on timeout closes the socket so the
  // pending operation ends (the blocking-client-with-timeouts idiom from the Asio examples).
  absl::Status RunUntil(const bool& done, absl::Duration timeout, absl::string_view what) {
    io.restart();
    io.run_for(absl::ToChronoMilliseconds(timeout));
    if (!done) {
      std::error_code ignored;
      socket.close(ignored);
      io.run();
      return absl::DeadlineExceededError(absl::StrCat("mtqp client: ", what, " timed out"));
    }
    return absl::OkStatus();
  }
};

MtqpClient::MtqpClient(std::unique_ptr<Io> io, absl::Duration timeout)
    : io_(std::move(io)), timeout_(timeout) {}

MtqpClient::~MtqpClient() {
  std::error_code ignored;
  io_->tls.reset();
  io_->socket.close(ignored);
}

absl::StatusOr<std::unique_ptr<MtqpClient>> MtqpClient::Connect(const std::string& host,
                                                                const std::string& port,
                                                                absl::Duration timeout) {
  auto io = std::make_unique<Io>();
  std::error_code ec;
  tcp::resolver resolver(io->io);
  const auto endpoints = resolver.resolve(host, port, ec);
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat("mtqp client: cannot resolve ", host, ":", port, ": ", ec.message()));
  }
  bool done = false;
  asio::async_connect(io->socket, endpoints, [&](const std::error_code& e, const tcp::endpoint&) {
    ec = e;
    done = true;
  });
  MTRK_RETURN_IF_ERROR(io->RunUntil(done, timeout, "connect"));
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat("mtqp client: cannot connect to ", host, ":", port, ": ", ec.message()));
  }
  std::unique_ptr<MtqpClient> client(new MtqpClient(std::move(io), timeout));
  MTRK_RETURN_IF_ERROR(client->ReadGreeting());
  return client;
}

absl::Status MtqpClient::ReadGreeting() {
  MTRK_ASSIGN_OR_RETURN(greeting_, ReadResponse());
  const mtqp::ResponseLine& g = greeting_.status;
  const bool positive = g.indicator == mtqp::ResponseLine::Indicator::kOk ||
                        g.indicator == mtqp::ResponseLine::Indicator::kOkMulti;
  if (!g.HasCode("MTQP") || !positive) {  // RFC 3887 §3
    return absl::FailedPreconditionError(
        absl::StrCat("mtqp client: server refused or is not MTQP: '", greeting_.status_line, "'"));
  }
  return absl::OkStatus();
}

bool MtqpClient::OffersStartTls(bool* required) const {
  if (required != nullptr) *required = false;
  for (absl::string_view line : absl::StrSplit(greeting_.body, "\r\n", absl::SkipEmpty())) {
    std::vector<absl::string_view> words =
        absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    if (words.empty() || !absl::EqualsIgnoreCase(words[0], "STARTTLS")) continue;
    if (required != nullptr) {
      *required = words.size() > 1 && absl::EqualsIgnoreCase(words[1], "required");
    }
    return true;
  }
  return false;
}

bool MtqpClient::tls_active() const { return io_->tls != nullptr; }

std::string MtqpClient::tls_description() const {
  return io_->tls ? server::Describe(io_->tls->native_handle()) : "";
}

absl::Status MtqpClient::StartTls(const std::string& fqdn, asio::ssl::context& context,
                                  const std::string& verify_name) {
  if (io_->tls) return absl::FailedPreconditionError("mtqp client: TLS already active");
  MTRK_ASSIGN_OR_RETURN(Response r, Command(absl::StrCat("STARTTLS ", fqdn)));
  if (r.status.indicator != mtqp::ResponseLine::Indicator::kOk) {
    return absl::FailedPreconditionError(
        absl::StrCat("mtqp client: STARTTLS refused: '", r.status_line, "'"));
  }
  // Anything the server sent after its +OK is not to be trusted (RFC 3887 §6.2).
  io_->in.consume(io_->in.size());
  io_->tls = std::make_unique<asio::ssl::stream<tcp::socket&>>(io_->socket, context);
  MTRK_RETURN_IF_ERROR(server::ExpectHostName(io_->tls->native_handle(), verify_name));
  std::error_code ec;
  bool done = false;
  io_->tls->async_handshake(asio::ssl::stream_base::client, [&](const std::error_code& e) {
    ec = e;
    done = true;
  });
  MTRK_RETURN_IF_ERROR(io_->RunUntil(done, timeout_, "TLS handshake"));
  if (ec) {
    const long verify = SSL_get_verify_result(io_->tls->native_handle());  // NOLINT(runtime/int)
    return absl::UnauthenticatedError(absl::StrCat(
        "mtqp client: TLS handshake with ", verify_name, " failed: ", ec.message(),
        verify != X509_V_OK ? absl::StrCat(" (", X509_verify_cert_error_string(verify), ")") : ""));
  }
  MTRK_RETURN_IF_ERROR(ReadGreeting());
  if (OffersStartTls()) {  // RFC 3887 §6.2: the new greeting MUST NOT list STARTTLS
    return absl::FailedPreconditionError("mtqp client: STARTTLS offered again after TLS");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> MtqpClient::ReadLine() {
  std::error_code ec;
  bool done = false;
  io_->WithStream([&](auto& stream) {
    asio::async_read_until(stream, io_->in, "\n", [&](const std::error_code& e, size_t) {
      ec = e;
      done = true;
    });
  });
  MTRK_RETURN_IF_ERROR(io_->RunUntil(done, timeout_, "read"));
  if (ec == asio::error::not_found) {
    return absl::InvalidArgumentError("mtqp client: response line too long");
  }
  if (ec) {
    return absl::UnavailableError(absl::StrCat("mtqp client: read: ", ec.message()));
  }
  std::string line;
  std::istream stream(&io_->in);
  std::getline(stream, line);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

absl::StatusOr<Response> MtqpClient::ReadResponse() {
  Response r;
  MTRK_ASSIGN_OR_RETURN(r.status_line, ReadLine());
  MTRK_ASSIGN_OR_RETURN(r.status, mtqp::ParseResponseLine(r.status_line));
  if (r.status.indicator != mtqp::ResponseLine::Indicator::kOkMulti) return r;
  mtqp::MultilineDecoder decoder;
  while (!decoder.done()) {
    MTRK_ASSIGN_OR_RETURN(std::string line, ReadLine());
    decoder.Add(line);
    if (decoder.body().size() > kMaxBodyBytes) {
      return absl::ResourceExhaustedError("mtqp client: response too large");
    }
  }
  r.body = decoder.body();
  return r;
}

absl::StatusOr<Response> MtqpClient::Command(absl::string_view line) {
  const std::string out = absl::StrCat(line, "\r\n");
  std::error_code ec;
  bool done = false;
  io_->WithStream([&](auto& stream) {
    asio::async_write(stream, asio::buffer(out), [&](const std::error_code& e, size_t) {
      ec = e;
      done = true;
    });
  });
  MTRK_RETURN_IF_ERROR(io_->RunUntil(done, timeout_, "write"));
  if (ec) return absl::UnavailableError(absl::StrCat("mtqp client: write: ", ec.message()));
  return ReadResponse();
}

}  // namespace mtrk::gateway::client
