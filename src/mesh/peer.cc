// VerifyMeshPeer: the numbered pipeline of peer.h.
#include "lunal/mesh/peer.h"

#include <algorithm>

namespace lunal::mesh {
namespace {

bool Contains(const std::vector<std::string>& list, std::string_view value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

bool IsBuildHash(std::string_view hash) {
  return hash.size() == 71 && hash.starts_with("sha256:") &&
         std::all_of(hash.begin() + 7, hash.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// Step 3's failures, by crypto::VerifyChain's reason (chain.h).
Status ChainFailure(const Status& chain, const std::string& uri) {
  const std::string& reason = chain.reason();
  if (reason == "crypto.chain.cert_expired") {
    return VerificationFailed("mesh.peer.expired", "{}: {}", uri, chain.message());
  }
  if (reason == "crypto.chain.cert_not_yet_valid") {
    return VerificationFailed("mesh.peer.not_yet_valid", "{}: {}", uri, chain.message());
  }
  return VerificationFailed("mesh.peer.untrusted_ca", "{}: not issued by a pinned mesh CA ({}: {})",
                            uri, reason, chain.message());
}

}  // namespace

MeshTrust::MeshTrust(std::vector<crypto::Certificate> cas, const Clock& clock)
    : cas_(std::move(cas)), clock_(&clock) {
  for (const crypto::Certificate& ca : cas_) {
    anchors_.push_back(crypto::TrustAnchor{.der_sha256 = ca.Sha256OfDer(),
                                           .label = "mesh CA " + ca.SubjectCommonName()});
  }
}

Result<MeshTrust> MeshTrust::FromPem(std::string_view ca_pem, const Clock& clock) {
  Result<std::vector<crypto::Certificate>> cas = crypto::ParsePemChain(ca_pem);
  if (!cas) return InvalidArgument("mesh.trust.invalid", "CA PEM: {}", cas.error().message());
  for (const crypto::Certificate& ca : *cas) {
    if (!ca.IsCa() || !ca.IsSelfSigned()) {
      return InvalidArgument("mesh.trust.invalid", "'{}' is not a self-signed CA certificate",
                             ca.SubjectName());
    }
  }
  return MeshTrust(std::move(*cas), clock);
}

Status PeerExpectation::Validate() const {
  auto invalid = [](std::string_view what) {
    return InvalidArgument("mesh.expectation.invalid", "peer expectation: {}", what);
  };
  if (!IsSafeSegment(tenant)) return invalid("tenant must be a safe, non-empty URI segment");
  if (deployment && !IsSafeSegment(*deployment)) return invalid("unsafe deployment");
  if (instance && !IsSafeSegment(*instance)) return invalid("unsafe instance");
  if (build_hashes.empty() && !any_build) {
    return invalid("build_hashes is empty: list the allowed builds or set any_build");
  }
  if (!std::all_of(build_hashes.begin(), build_hashes.end(), IsBuildHash)) {
    return invalid("build hashes must be sha256:<64 lowercase hex>");
  }
  for (const std::string& tee : tee_types) {
    if (tee != kTeeTdx && tee != kTeeSevSnp) return invalid("TEE types are tdx or sev-snp");
  }
  return Status::Ok();
}

Result<MeshIdentity> VerifyMeshPeer(std::span<const Bytes> chain_der, const MeshTrust& trust,
                                    const PeerExpectation& expected) {
  LUNAL_RETURN_IF_ERROR(expected.Validate());
  // 1. A certificate was presented.
  if (chain_der.empty() || chain_der.front().empty()) {
    return Unauthenticated("mesh.peer.no_certificate", "the peer presented no certificate");
  }
  // 2. Structure: every certificate parses, the leaf follows the mesh profile.
  std::vector<crypto::Certificate> others;
  for (std::size_t i = 1; i < chain_der.size(); ++i) {
    Result<crypto::Certificate> cert = crypto::Certificate::FromDer(chain_der[i]);
    if (!cert) {
      return VerificationFailed("mesh.peer.bad_profile", "chain certificate {}: {}", i,
                                cert.error().message());
    }
    others.push_back(std::move(*cert));
  }
  Result<crypto::Certificate> leaf = crypto::Certificate::FromDer(chain_der.front());
  if (!leaf) {
    return VerificationFailed("mesh.peer.bad_profile", "{}", leaf.error().message());
  }
  Result<MeshIdentity> identity = ParseMeshCertificate(*leaf);
  if (!identity) {
    return VerificationFailed("mesh.peer.bad_profile", "{} [{}]", identity.error().message(),
                              identity.error().reason());
  }
  const std::string uri = identity->Uri();
  // 3. Trust and time: an RFC 5280 path to a pinned CA, valid now. Mesh certificates live an hour
  // and are not revoked individually (a revoked build fails its next renewal), so no CRLs.
  crypto::ChainOptions options{.as_of = ToSeconds(trust.clock().Now()),
                               .crls = {},
                               .crl_policy = crypto::ChainOptions::CrlPolicy::kNone,
                               .max_depth = 4,
                               .x509_strict = true};
  // The pinned CAs join what the peer sent: VerifyChain builds the path from the given
  // certificates and trusts only those whose digest is pinned.
  others.insert(others.end(), trust.cas().begin(), trust.cas().end());
  Result<crypto::VerifiedChain> chain =
      crypto::VerifyChain(*leaf, others, trust.anchors(), options);
  if (!chain) return ChainFailure(chain.error(), uri);
  // 4. Who: tenant, then deployment and instance when the caller names them.
  if (identity->tenant != expected.tenant ||
      (expected.deployment && identity->deployment != *expected.deployment) ||
      (expected.instance && identity->instance != *expected.instance)) {
    return PolicyViolation("mesh.peer.wrong_identity", "peer {} is not the expected {}/{}/{}", uri,
                           expected.tenant, expected.deployment.value_or("*"),
                           expected.instance.value_or("*"));
  }
  // 5. TEE type.
  if (!expected.tee_types.empty() && !Contains(expected.tee_types, identity->tee)) {
    return PolicyViolation("mesh.peer.tee_not_allowed", "peer {} runs in {}, not allowed", uri,
                           identity->tee);
  }
  // 6. Simulation.
  if (identity->simulated && !expected.allow_simulated) {
    return PolicyViolation("mesh.peer.simulated_not_allowed",
                           "peer {} was attested with simulated evidence", uri);
  }
  // 7. Build.
  if (!expected.any_build && !Contains(expected.build_hashes, identity->build_hash)) {
    return PolicyViolation("mesh.peer.build_hash_not_allowed", "peer {} runs build {}, not allowed",
                           uri, identity->build_hash);
  }
  return std::move(*identity);
}

}  // namespace lunal::mesh
