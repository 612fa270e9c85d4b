// Mesh TLS: options for lunal::net's HttpServer and HttpClient that authenticate both ends with
// CDS-issued mesh certificates (TLS 1.3 only, mutual).
//
//   auto self = MeshCredentials::Load(chain_pem, key_pem);          // from the CDS
//   auto trust = MeshTrust::FromPem(cds_ca_pem, SystemClock::Instance());
//   net::ServerOptions server{.tls = *MeshServerTls(*self, *trust, {.tenant = "acme", ...})};
//   net::ClientOptions client{.tls = *MeshClientTls(*self, *trust, {.tenant = "acme", ...})};
//   ... hourly, after renewal at the CDS:  (*self)->Reload(new_chain_pem, new_key_pem);
//
// The server requires a client certificate and judges it in the handshake with VerifyMeshPeer
// (peer.h); a refused client never reaches a handler, and on_refused hears why (the client only
// sees a failed handshake). The client judges the server the same way, and a refusal fails
// HttpClient::Send with VerifyMeshPeer's status (e.g. mesh.peer.build_hash_not_allowed). Session
// resumption is off, so every connection is judged at the clock's current time.
//
// Thread-safety: MeshCredentials may be reloaded from any thread while servers and clients use it;
// handshakes that start after Reload returns present the new certificate, connections already
// established keep theirs.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string_view>

#include "lunal/common/result.h"
#include "lunal/mesh/identity.h"
#include "lunal/mesh/peer.h"
#include "lunal/net/auth.h"
#include "lunal/net/client.h"
#include "lunal/net/http.h"
#include "lunal/net/server.h"
#include "lunal/net/tls_credentials.h"

namespace lunal::mesh {

// This instance's own mesh certificate chain and key, replaceable at renewal.
class MeshCredentials {
 public:
  // `cert_chain_pem`: the mesh certificate first, then any intermediates; `private_key_pem`: its
  // key. Errors: the leaf's mesh.cert.* reason (ParseMeshCertificate), InvalidArgument
  // "net.tls_config" (unreadable key, key not matching the certificate).
  static Result<std::shared_ptr<MeshCredentials>> Load(std::string_view cert_chain_pem,
                                                       std::string_view private_key_pem);

  // Renewal: validates like Load and requires the same URI (tenant, deployment, instance), else
  // InvalidArgument "mesh.credentials.identity_changed". On error the current pair stays.
  Status Reload(std::string_view cert_chain_pem, std::string_view private_key_pem);

  MeshIdentity Identity() const;
  const std::shared_ptr<net::TlsCredentials>& tls() const { return tls_; }

 private:
  MeshCredentials(std::shared_ptr<net::TlsCredentials> tls, MeshIdentity identity);
  const std::shared_ptr<net::TlsCredentials> tls_;
  mutable std::mutex mu_;
  MeshIdentity identity_;  // guarded by mu_
};

// Called with the client's address and why, for each refused handshake: VerifyMeshPeer's status,
// Unauthenticated "mesh.peer.no_certificate" when the client sent none, or net's
// "net.tls_handshake_failed" for other failures. Runs on an I/O thread; must not throw.
using RefusalHook = std::function<void(std::string_view remote_address, const Status& why)>;

// Server TLS options: present `self`, require TLS 1.3 and a client certificate verified against
// `trust` and `clients`. Errors: InvalidArgument "mesh.expectation.invalid".
Result<net::TlsServerOptions> MeshServerTls(std::shared_ptr<MeshCredentials> self, MeshTrust trust,
                                            PeerExpectation clients,
                                            RefusalHook on_refused = nullptr);

// Client TLS options: present `self`, require TLS 1.3 and a server certificate verified against
// `trust` and `server`. Errors: InvalidArgument "mesh.expectation.invalid".
Result<net::ClientTlsOptions> MeshClientTls(std::shared_ptr<MeshCredentials> self, MeshTrust trust,
                                            PeerExpectation server);

// The identity of the peer on a connection made with the options above: a handler's client
// (HttpRequest::peer_certificate_der) or a response's server (HttpResponse::peer_certificate_der).
// These only parse: the certificate was verified during the handshake. Errors: Unauthenticated
// "mesh.peer.no_certificate" (not a TLS connection with a peer certificate), mesh.cert.*.
Result<MeshIdentity> PeerIdentity(const net::HttpRequest& request);
Result<MeshIdentity> PeerIdentity(const net::HttpResponse& response);

// An Authorizer (net/auth.h) for the routes of a server whose TLS options come from
// MeshServerTls: admits a request only when its connection presented a mesh certificate whose
// tenant, and deployment and instance when `clients` sets them, are the expected ones. The
// handshake has already verified the chain, the validity and the whole expectation; this re-check
// means that routes wired by mistake to a server without mesh TLS refuse every request instead
// of admitting every one. Refusals: Unauthenticated `reason`. The expectation must be valid
// (Validate), else InvalidArgument "mesh.expectation.invalid".
Result<net::Authorizer> MeshPeerAuthorizer(PeerExpectation clients, std::string reason);

}  // namespace lunal::mesh
