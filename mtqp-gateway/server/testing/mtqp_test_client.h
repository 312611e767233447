// Test support for the MTQP server tests (mtqp_server_test.cc, mtqp_tls_test.cc): a fake lookup
// that knows one message, and a raw client over loopback for what the real client
// (client/mtqp_client.h) refuses to do: pipelining, garbage, half-finished STARTTLS, old TLS.
// Test-only; not thread-safe.
#pragma once

#include <openssl/ssl.h>

#include <array>
#include <chrono>
#include <istream>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "asio.hpp"
#include "asio/ssl.hpp"
#include "common/model/hop_event.h"
#include "gtest/gtest.h"
#include "mtqp-gateway/mtqp/track_lookup.h"

namespace mtrk::gateway::server::mtqp_test {

inline constexpr absl::string_view kEnvid = "20261123.a1b2c3@a.example";
inline constexpr absl::string_view kSecretB64 = "jztaHJ0uT2BxgpOktcbX6A";  // 16 octets

// One hop with `action` for kEnvid and any 16-octet secret; NotFound for anything else.
class FakeLookup : public mtqp::TrackLookup {
 public:
  explicit FakeLookup(model::DsnAction action = model::DsnAction::kTransferred,
                      std::string recipient = "alice@b.example")
      : action_(action), recipient_(std::move(recipient)) {}

  absl::StatusOr<std::vector<model::HopEvent>> Track(absl::string_view envid,
                                                     absl::string_view secret) override {
    if (envid != kEnvid || secret.size() != 16) return absl::NotFoundError("no");
    model::HopEvent e;
    e.reporting_mta = "mta-a.a.example";
    e.envid = std::string(envid);
    e.final_recipient = recipient_;
    e.action = action_;
    e.status = "2.0.0";
    e.remote_mta = "127.0.0.2";
    e.arrival_time = absl::FromUnixSeconds(1795415225);
    e.last_attempt_time = e.arrival_time;
    return std::vector<model::HopEvent>{e};
  }

 private:
  const model::DsnAction action_;
  const std::string recipient_;
};

// A client on 127.0.0.1:port, clear text until Handshake(). Every operation is asynchronous and
// runs against a deadline (io_context::run_for), then cancels: a blocking Asio read polls without
// end and ignores SO_RCVTIMEO, so a server that never answered would hang the test instead of
// failing it.
class MtqpTestClient {
 public:
  static constexpr std::chrono::seconds kDeadline{20};

  explicit MtqpTestClient(uint16_t port) {
    const std::error_code ec = Run([&](auto done) {
      socket_.async_connect({asio::ip::make_address("127.0.0.1"), port}, done);
    });
    EXPECT_FALSE(ec) << "connect to 127.0.0.1:" << port << ": " << ec.message();
  }

  // The write's error (a test that sends garbage may see the server close first).
  std::error_code Send(absl::string_view bytes) {
    return Run([&](auto done) {
      const auto handler = [done](const std::error_code& ec, size_t /*n*/) { done(ec); };
      if (tls_) {
        asio::async_write(*tls_, asio::buffer(bytes.data(), bytes.size()), handler);
      } else {
        asio::async_write(socket_, asio::buffer(bytes.data(), bytes.size()), handler);
      }
    });
  }

  // One line without CRLF; "<eof>" on EOF or error, "<timeout>" past the deadline.
  std::string Line() {
    const std::error_code ec = Run([&](auto done) {
      const auto handler = [done](const std::error_code& ec, size_t /*n*/) { done(ec); };
      if (tls_) {
        asio::async_read_until(*tls_, buf_, "\r\n", handler);
      } else {
        asio::async_read_until(socket_, buf_, "\r\n", handler);
      }
    });
    if (ec == asio::error::timed_out) return "<timeout>";
    if (ec) return "<eof>";
    std::string line;
    std::istream in(&buf_);
    std::getline(in, line);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return line;
  }

  // A multi-line response's data through the "." line, each line ending in "\n".
  std::string UntilDot() {
    std::string all;
    for (std::string l = Line(); l != "." && l != "<eof>" && l != "<timeout>"; l = Line()) {
      absl::StrAppend(&all, l, "\n");
    }
    return all;
  }

  // Reads through the end of the (multi-line) greeting.
  void SkipGreeting() {
    for (std::string l = Line(); l != "." && l != "<eof>" && l != "<timeout>";) l = Line();
  }

  // The handshake's error, asio::error::timed_out if it did not finish in time.
  std::error_code Handshake(asio::ssl::context& context) {
    tls_ = std::make_unique<asio::ssl::stream<asio::ip::tcp::socket&>>(socket_, context);
    return Run([&](auto done) { tls_->async_handshake(asio::ssl::stream_base::client, done); });
  }

  // True if the server closed the TCP connection: the next raw read, below TLS, ends in EOF or a
  // reset rather than in data or the deadline.
  bool ClosedByServer() {
    std::array<char, 512> scratch;
    std::error_code ec;
    do {
      ec = Run([&](auto done) {
        socket_.async_read_some(asio::buffer(scratch),
                                [done](const std::error_code& e, size_t /*n*/) { done(e); });
      });
    } while (!ec);  // an alert the handshake left unread
    return ec == asio::error::eof || ec == asio::error::connection_reset;
  }

  // "TLSv1.2" once the handshake is done.
  std::string Version() const { return tls_ ? SSL_get_version(tls_->native_handle()) : ""; }

 private:
  // Starts one operation, which calls `done(ec)`, and waits for it until the deadline; past
  // it, closes the socket (which aborts the operation) and returns timed_out.
  template <typename Start>
  std::error_code Run(Start start) {
    std::error_code result;
    bool finished = false;
    io_.restart();
    start([&](const std::error_code& ec) {
      result = ec;
      finished = true;
    });
    io_.run_for(kDeadline);
    if (finished) return result;
    std::error_code ignored;
    socket_.close(ignored);
    io_.restart();
    io_.run();  // the aborted handler runs and returns; nothing else is pending
    return asio::error::timed_out;
  }

  asio::io_context io_;
  asio::ip::tcp::socket socket_{io_};
  std::unique_ptr<asio::ssl::stream<asio::ip::tcp::socket&>> tls_;
  asio::streambuf buf_;
};

}  // namespace mtrk::gateway::server::mtqp_test
