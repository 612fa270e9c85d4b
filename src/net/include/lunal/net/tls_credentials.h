// TLS hooks shared by the server (server.h) and the client (client.h): replaceable credentials and
// a caller-supplied peer verification. Added for the mesh library (src/mesh), which presents
// short-lived CDS certificates that rotate while servers and clients keep running, and judges
// peers by what their certificates carry rather than by host names.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string_view>

#include "lunal/common/bytes.h"
#include "lunal/common/result.h"
#include "lunal/common/status.h"

namespace lunal::net {

namespace internal {
struct TlsCredentialsAccess;
}  // namespace internal

// A certificate chain and its private key, as a TLS endpoint presents them, replaceable while in
// use: every handshake that starts after Replace() returns presents the new pair; connections
// already established keep the one they were made with.
//
// Thread-safety: all methods may be called concurrently with each other and with handshakes.
class TlsCredentials {
 public:
  // `cert_chain_pem`: the leaf first, then any intermediates; `private_key_pem`: the leaf's key
  // (unencrypted PEM). Errors: InvalidArgument "net.tls_config" (no certificate, unreadable or
  // encrypted key, key not matching the leaf).
  static Result<std::shared_ptr<TlsCredentials>> Create(std::string_view cert_chain_pem,
                                                        std::string_view private_key_pem);
  ~TlsCredentials();
  TlsCredentials(const TlsCredentials&) = delete;
  TlsCredentials& operator=(const TlsCredentials&) = delete;

  // Validates the new pair exactly like Create, then swaps it in. On error the current pair stays.
  Status Replace(std::string_view cert_chain_pem, std::string_view private_key_pem);

  // The DER of the leaf certificate presented by new handshakes.
  Bytes LeafDer() const;

  struct Loaded;  // parsed OpenSSL objects; defined in tls.cc

 private:
  friend struct internal::TlsCredentialsAccess;
  explicit TlsCredentials(std::shared_ptr<const Loaded> loaded);
  std::shared_ptr<const Loaded> Current() const;

  mutable std::mutex mu_;
  std::shared_ptr<const Loaded> current_;  // guarded by mu_
};

// Judges the certificate chain a peer presented during the handshake: `chain_der` holds the leaf
// first, then whatever else the peer sent, in its order. OK accepts the peer; any other status
// fails the handshake. When set, it is the whole certificate verification: OpenSSL's own path
// building, trust store and host-name checks are not run, so the hook must check trust itself.
// Called on I/O threads, possibly concurrently: it must be thread-safe and must not throw (a
// throw is treated as a refusal with reason "internal").
using PeerVerifier = std::function<Status(std::span<const Bytes> chain_der)>;

}  // namespace lunal::net
