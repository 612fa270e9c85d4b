// OpenSSL plumbing shared by the server and the client: building SSL_CTXs from in-memory PEM and
// inspecting a finished handshake. Plain OpenSSL, no Asio, so it stays out of the Beast TUs.
#pragma once

#include <openssl/ssl.h>

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "lunal/common/bytes.h"
#include "lunal/common/result.h"
#include "lunal/net/client.h"
#include "lunal/net/server.h"

namespace lunal::net::internal {

struct SslCtxFree {
  void operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }
};
using SslCtxPtr = std::unique_ptr<SSL_CTX, SslCtxFree>;

// TLS 1.2+ server context with the certificate chain, key and optional client-CA verification.
// Errors: InvalidArgument "net.tls_config".
Result<SslCtxPtr> MakeServerSslContext(const TlsServerOptions& options);

// TLS 1.2+ client context: trust anchors (ca_pem, else the system's unless pinning), client
// certificate. Errors: InvalidArgument "net.tls_config".
Result<SslCtxPtr> MakeClientSslContext(const ClientTlsOptions& options);

// Per connection, before the handshake: SNI and the name (or IP) the certificate must carry.
// `host` is the URL's host; options.server_name overrides it.
Status ConfigureClientSsl(SSL* ssl, const ClientTlsOptions& options, std::string_view host);

// After the handshake: the pin check (OK when no pin is configured).
// Errors: VerificationFailed "net.tls_pin_mismatch".
Status CheckPeerPin(SSL* ssl, const ClientTlsOptions& options);

// The peer's leaf certificate as DER, empty when it sent none.
Bytes PeerCertificateDer(SSL* ssl);

// Why a handshake failed: the verification result when the peer certificate was rejected, else
// `error_text` (the I/O error's message).
std::string HandshakeFailureDetail(SSL* ssl, std::string error_text);

// The status a PeerVerifier (tls_credentials.h) refused this connection's peer with; OK when no
// verifier ran or it accepted.
Status PeerVerifierStatus(SSL* ssl);

// Why a server-side handshake failed, for TlsServerOptions::on_handshake_failed. `openssl_error`
// is the packed OpenSSL error code of an SSL-category failure (0 for other failures).
Status ServerHandshakeFailure(SSL* ssl, unsigned long openssl_error, std::string error_text);

}  // namespace lunal::net::internal
