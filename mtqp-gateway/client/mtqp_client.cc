#include "mtqp-gateway/client/mtqp_client.h"

#include <chrono>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "asio.hpp"
#include "common/base/status_macros.h"
#include "mtqp-gateway/mtqp/multiline.h"

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
  asio::streambuf in{kMaxLineBytes + 2};

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
  MTRK_ASSIGN_OR_RETURN(client->greeting_, client->ReadResponse());
  const mtqp::ResponseLine& g = client->greeting_.status;
  const bool positive = g.indicator == mtqp::ResponseLine::Indicator::kOk ||
                        g.indicator == mtqp::ResponseLine::Indicator::kOkMulti;
  if (!g.HasCode("MTQP") || !positive) {  // RFC 3887 §3
    return absl::FailedPreconditionError(absl::StrCat(
        "mtqp client: server refused or is not MTQP: '", client->greeting_.status_line, "'"));
  }
  return client;
}

absl::StatusOr<std::string> MtqpClient::ReadLine() {
  std::error_code ec;
  bool done = false;
  asio::async_read_until(io_->socket, io_->in, "\n", [&](const std::error_code& e, size_t) {
    ec = e;
    done = true;
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
  asio::async_write(io_->socket, asio::buffer(out), [&](const std::error_code& e, size_t) {
    ec = e;
    done = true;
  });
  MTRK_RETURN_IF_ERROR(io_->RunUntil(done, timeout_, "write"));
  if (ec) return absl::UnavailableError(absl::StrCat("mtqp client: write: ", ec.message()));
  return ReadResponse();
}

}  // namespace mtrk::gateway::client
