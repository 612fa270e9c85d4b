// Mesh TLS: MeshCredentials and the net TLS options built around VerifyMeshPeer.
#include "lunal/mesh/tls.h"

namespace lunal::mesh {
namespace {

Result<MeshIdentity> IdentityOfChain(std::string_view cert_chain_pem) {
  Result<std::vector<crypto::Certificate>> chain = crypto::ParsePemChain(cert_chain_pem);
  if (!chain) return Malformed("mesh.cert.parse_failed", "{}", chain.error().message());
  return ParseMeshCertificate(chain->front());
}

net::PeerVerifier MakeVerifier(MeshTrust trust, PeerExpectation expected) {
  return [trust = std::move(trust),
          expected = std::move(expected)](std::span<const Bytes> chain_der) -> Status {
    Result<MeshIdentity> peer = VerifyMeshPeer(chain_der, trust, expected);
    return peer ? Status::Ok() : peer.error();
  };
}

Result<MeshIdentity> IdentityOfDer(const Bytes& der) {
  if (der.empty()) {
    return Unauthenticated("mesh.peer.no_certificate", "no verified peer certificate");
  }
  return ParseMeshCertificateDer(der);
}

}  // namespace

MeshCredentials::MeshCredentials(std::shared_ptr<net::TlsCredentials> tls, MeshIdentity identity)
    : tls_(std::move(tls)), identity_(std::move(identity)) {}

Result<std::shared_ptr<MeshCredentials>> MeshCredentials::Load(std::string_view cert_chain_pem,
                                                               std::string_view private_key_pem) {
  LUNAL_ASSIGN_OR_RETURN(MeshIdentity identity, IdentityOfChain(cert_chain_pem));
  LUNAL_ASSIGN_OR_RETURN(std::shared_ptr<net::TlsCredentials> tls,
                         net::TlsCredentials::Create(cert_chain_pem, private_key_pem));
  return std::shared_ptr<MeshCredentials>(new MeshCredentials(std::move(tls), std::move(identity)));
}

Status MeshCredentials::Reload(std::string_view cert_chain_pem, std::string_view private_key_pem) {
  LUNAL_ASSIGN_OR_RETURN(MeshIdentity identity, IdentityOfChain(cert_chain_pem));
  std::lock_guard<std::mutex> lock(mu_);
  if (identity.Uri() != identity_.Uri()) {
    return InvalidArgument("mesh.credentials.identity_changed",
                           "renewed certificate is for {}, this instance is {}", identity.Uri(),
                           identity_.Uri());
  }
  LUNAL_RETURN_IF_ERROR(tls_->Replace(cert_chain_pem, private_key_pem));
  identity_ = std::move(identity);
  return Status::Ok();
}

MeshIdentity MeshCredentials::Identity() const {
  std::lock_guard<std::mutex> lock(mu_);
  return identity_;
}

Result<net::TlsServerOptions> MeshServerTls(std::shared_ptr<MeshCredentials> self, MeshTrust trust,
                                            PeerExpectation clients, RefusalHook on_refused) {
  if (!self) return InvalidArgument("mesh.credentials.missing", "no own mesh credentials");
  LUNAL_RETURN_IF_ERROR(clients.Validate());
  net::TlsServerOptions options;
  options.credentials = self->tls();
  options.verify_client = MakeVerifier(std::move(trust), std::move(clients));
  options.tls13_only = true;
  if (on_refused) {
    options.on_handshake_failed = [hook = std::move(on_refused)](std::string_view remote,
                                                                 const Status& why) {
      if (why.reason() == "net.tls_no_peer_certificate") {
        hook(remote, Unauthenticated("mesh.peer.no_certificate", "the client sent no certificate"));
      } else {
        hook(remote, why);
      }
    };
  }
  return options;
}

Result<net::ClientTlsOptions> MeshClientTls(std::shared_ptr<MeshCredentials> self, MeshTrust trust,
                                            PeerExpectation server) {
  if (!self) return InvalidArgument("mesh.credentials.missing", "no own mesh credentials");
  LUNAL_RETURN_IF_ERROR(server.Validate());
  net::ClientTlsOptions options;
  options.client_credentials = self->tls();
  options.verify_server = MakeVerifier(std::move(trust), std::move(server));
  options.tls13_only = true;
  return options;
}

Result<MeshIdentity> PeerIdentity(const net::HttpRequest& request) {
  return IdentityOfDer(request.peer_certificate_der);
}

Result<MeshIdentity> PeerIdentity(const net::HttpResponse& response) {
  return IdentityOfDer(response.peer_certificate_der);
}

Result<net::Authorizer> MeshPeerAuthorizer(PeerExpectation clients, std::string reason) {
  LUNAL_RETURN_IF_ERROR(clients.Validate());
  return net::Authorizer([clients = std::move(clients),
                          reason = std::move(reason)](const net::HttpRequest& request) -> Status {
    Result<MeshIdentity> peer = PeerIdentity(request);
    if (!peer) {
      return Unauthenticated(reason, "a mesh client certificate is required ({})",
                             peer.error().reason());
    }
    const bool matches = peer->tenant == clients.tenant &&
                         (!clients.deployment || peer->deployment == *clients.deployment) &&
                         (!clients.instance || peer->instance == *clients.instance);
    if (!matches) {
      return Unauthenticated(reason, "{} may not call this API (expected {}/{})", peer->Uri(),
                             clients.tenant, clients.deployment.value_or("*"));
    }
    return Status::Ok();
  });
}

}  // namespace lunal::mesh
