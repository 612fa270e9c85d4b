// Verifying a mesh peer: the certificate chain it presented must chain to a pinned CDS CA, be
// valid at the injected clock, follow the profile (identity.h) and match what the caller expects
// of that peer (tenant, deployment, instance, build hashes, TEE types, simulation).
//
// VerifyMeshPeer is a numbered pipeline (docs/protocols/mesh.md, "Mesh TLS"):
//   1. a certificate was presented                     else mesh.peer.no_certificate
//   (kUnauthenticated)
//   2. every certificate parses; the leaf follows the profile
//                                                      else mesh.peer.bad_profile
//   3. RFC 5280 path from the leaf to a pinned CA (SHA-256 of its DER), every certificate valid at
//      clock.Now()                                     else mesh.peer.untrusted_ca,
//      mesh.peer.expired,
//                                                           mesh.peer.not_yet_valid
//   4. tenant, then deployment and instance when expected
//                                                      else mesh.peer.wrong_identity
//   5. TEE type among tee_types (when given)           else mesh.peer.tee_not_allowed
//   6. simulated only when allow_simulated             else mesh.peer.simulated_not_allowed
//   7. build hash among build_hashes (unless any_build) else mesh.peer.build_hash_not_allowed
// Steps 2–3 fail with kVerificationFailed, steps 4–7 with kPolicyViolation; the message carries
// the peer's URI (never key material).
//
// Thread-safety: MeshTrust and PeerExpectation are immutable values once built; VerifyMeshPeer may
// run concurrently. The Clock given to MeshTrust must outlive it and every copy.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lunal/common/bytes.h"
#include "lunal/common/result.h"
#include "lunal/common/time.h"
#include "lunal/crypto/chain.h"
#include "lunal/crypto/x509.h"
#include "lunal/mesh/identity.h"

namespace lunal::mesh {

// The pinned CDS CA certificates and the clock that decides expiry.
class MeshTrust {
 public:
  // `ca_pem`: one or more self-signed CA certificates, pinned by the SHA-256 of their DER (names
  // play no part: a CA with the same names and another key is a stranger). Errors: InvalidArgument
  // "mesh.trust.invalid" (no certificate, unparsable PEM, a certificate that is not a
  // self-signed CA).
  static Result<MeshTrust> FromPem(std::string_view ca_pem, const Clock& clock);

  const std::vector<crypto::Certificate>& cas() const { return cas_; }
  const std::vector<crypto::TrustAnchor>& anchors() const { return anchors_; }
  const Clock& clock() const { return *clock_; }

 private:
  MeshTrust(std::vector<crypto::Certificate> cas, const Clock& clock);
  std::vector<crypto::Certificate> cas_;
  std::vector<crypto::TrustAnchor> anchors_;
  const Clock* clock_;
};

// What the caller requires of a peer.
struct PeerExpectation {
  std::string tenant{};                     // required
  std::optional<std::string> deployment{};  // unset: any deployment of the tenant
  std::optional<std::string> instance{};    // unset: any instance
  // Build hashes ("sha256:<hex>") the peer may run. Must be non-empty unless any_build is set:
  // an empty list never means "anything".
  std::vector<std::string> build_hashes{};
  bool any_build = false;
  std::vector<std::string> tee_types{};  // kTeeTdx / kTeeSevSnp; empty: either
  bool allow_simulated = false;

  // Errors: InvalidArgument "mesh.expectation.invalid" (empty or unsafe tenant, unsafe deployment
  // or instance, no build hashes without any_build, a build hash or TEE type not in the profile's
  // form).
  Status Validate() const;
};

// Verifies the chain a peer presented (leaf first, then whatever else it sent, as DER). Returns
// the peer's identity, or the first failing step's reason (see above). The expectation must be
// valid (Validate), else InvalidArgument "mesh.expectation.invalid".
Result<MeshIdentity> VerifyMeshPeer(std::span<const Bytes> chain_der, const MeshTrust& trust,
                                    const PeerExpectation& expected);

}  // namespace lunal::mesh
