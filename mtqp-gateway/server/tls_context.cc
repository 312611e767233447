#include "mtqp-gateway/server/tls_context.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <cstdio>

#include "absl/strings/str_cat.h"

namespace mtrk::gateway::server {
namespace {

std::string OpenSslError() {
  const unsigned long e = ERR_get_error();  // NOLINT(runtime/int): OpenSSL's type
  if (e == 0) return "unknown error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  ERR_clear_error();
  return buf;
}

void SetFloor(asio::ssl::context& context) {
  context.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                      asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                      asio::ssl::context::no_tlsv1_1 | asio::ssl::context::single_dh_use);
  SSL_CTX_set_min_proto_version(context.native_handle(), TLS1_2_VERSION);
}

absl::StatusOr<std::vector<std::string>> DnsNames(const std::string& cert_file) {
  FILE* f = std::fopen(cert_file.c_str(), "r");
  if (f == nullptr) return absl::NotFoundError(absl::StrCat("tls: cannot open ", cert_file));
  X509* cert = PEM_read_X509(f, nullptr, nullptr, nullptr);
  std::fclose(f);
  if (cert == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("tls: no certificate in ", cert_file));
  }
  std::vector<std::string> names;
  auto* sans =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  for (int i = 0; sans != nullptr && i < sk_GENERAL_NAME_num(sans); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(sans, i);
    if (name->type != GEN_DNS) continue;
    const ASN1_IA5STRING* dns = name->d.dNSName;
    names.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(dns)),
                       static_cast<size_t>(ASN1_STRING_length(dns)));
  }
  GENERAL_NAMES_free(sans);
  X509_free(cert);
  return names;
}

}  // namespace

absl::StatusOr<ServerTls> MakeServerTls(const std::string& cert_file, const std::string& key_file,
                                        const std::string& client_ca_file) {
  ServerTls out;
  out.context = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
  SetFloor(*out.context);
  std::error_code ec;
  if (out.context->use_certificate_chain_file(cert_file, ec); ec) {
    return absl::InvalidArgumentError(
        absl::StrCat("tls: certificate ", cert_file, ": ", ec.message()));
  }
  if (out.context->use_private_key_file(key_file, asio::ssl::context::pem, ec); ec) {
    return absl::InvalidArgumentError(absl::StrCat("tls: key ", key_file, ": ", ec.message()));
  }
  if (SSL_CTX_check_private_key(out.context->native_handle()) != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("tls: key ", key_file, " does not match ", cert_file, ": ", OpenSslError()));
  }
  absl::StatusOr<std::vector<std::string>> names = DnsNames(cert_file);
  if (!names.ok()) return names.status();
  out.dns_names = *std::move(names);
  if (!client_ca_file.empty()) {
    if (out.context->load_verify_file(client_ca_file, ec); ec) {
      return absl::InvalidArgumentError(
          absl::StrCat("tls: client CA ", client_ca_file, ": ", ec.message()));
    }
    // The CA names in the CertificateRequest, so a client with several certificates picks ours.
    if (STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(client_ca_file.c_str())) {
      SSL_CTX_set_client_CA_list(out.context->native_handle(), names);
    }
    // Resumed sessions must have been verified too; OpenSSL refuses resumption with peer
    // verification unless the context has a session id context.
    static constexpr unsigned char kSessionContext[] = "mtrk-mtqp";
    SSL_CTX_set_session_id_context(out.context->native_handle(), kSessionContext,
                                   sizeof kSessionContext - 1);
    out.context->set_verify_mode(asio::ssl::verify_peer | asio::ssl::verify_fail_if_no_peer_cert,
                                 ec);
    if (ec) return absl::InternalError(absl::StrCat("tls: verify mode: ", ec.message()));
  }
  return out;
}

absl::StatusOr<std::shared_ptr<asio::ssl::context>> MakeClientTls(const ClientTlsOptions& options) {
  auto context = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  SetFloor(*context);
  std::error_code ec;
  if (options.ca_file.empty()) {
    context->set_default_verify_paths(ec);
  } else {
    context->load_verify_file(options.ca_file, ec);
  }
  if (ec) {
    return absl::InvalidArgumentError(absl::StrCat(
        "tls: CA ", options.ca_file.empty() ? "(system)" : options.ca_file, ": ", ec.message()));
  }
  if (options.cert_file.empty() != options.key_file.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("tls: a client certificate needs its key, and vice versa (certificate '",
                     options.cert_file, "', key '", options.key_file, "')"));
  }
  if (!options.cert_file.empty()) {
    if (context->use_certificate_chain_file(options.cert_file, ec); ec) {
      return absl::InvalidArgumentError(
          absl::StrCat("tls: certificate ", options.cert_file, ": ", ec.message()));
    }
    if (context->use_private_key_file(options.key_file, asio::ssl::context::pem, ec); ec) {
      return absl::InvalidArgumentError(
          absl::StrCat("tls: key ", options.key_file, ": ", ec.message()));
    }
    if (SSL_CTX_check_private_key(context->native_handle()) != 1) {
      return absl::InvalidArgumentError(absl::StrCat("tls: key ", options.key_file,
                                                     " does not match ", options.cert_file, ": ",
                                                     OpenSslError()));
    }
  }
  context->set_verify_mode(asio::ssl::verify_peer);
  return context;
}

absl::Status ExpectHostName(SSL* ssl, const std::string& host) {
  ASN1_OCTET_STRING* ip = a2i_IPADDRESS(host.c_str());
  if (ip != nullptr) {
    ASN1_OCTET_STRING_free(ip);
    if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host.c_str()) != 1) {
      return absl::InvalidArgumentError(absl::StrCat("tls: bad IP ", host));
    }
    return absl::OkStatus();
  }
  // SNI lets a virtual host pick its certificate (RFC 3887 §6 wants the same of the FQDN).
  if (SSL_set_tlsext_host_name(ssl, host.c_str()) != 1 || SSL_set1_host(ssl, host.c_str()) != 1) {
    return absl::InvalidArgumentError(absl::StrCat("tls: bad host name ", host));
  }
  SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  return absl::OkStatus();
}

std::string Describe(const SSL* ssl) {
  return absl::StrCat(SSL_get_version(ssl), " ", SSL_get_cipher_name(ssl));
}

}  // namespace mtrk::gateway::server
