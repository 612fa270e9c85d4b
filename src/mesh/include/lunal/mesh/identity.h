// The identity a CDS-issued mesh certificate carries (profile.h), parsed with strict checks of the
// profile. Parsing says nothing about trust or time: peer.h chains the certificate to the pinned
// CDS CA, checks its validity at an injected clock and compares it with what the caller expects.
//
// Checks (docs/protocols/mesh.md, "Mesh certificates"), each with its own reason (kMalformed):
//   mesh.cert.parse_failed          not one DER / PEM certificate
//   mesh.cert.key_type              the subject key is not ECDSA P-256
//   mesh.cert.validity              notBefore is not before notAfter
//   mesh.cert.duplicate_extension   an extension OID appears twice (RFC 5280 §4.2)
//   mesh.cert.critical_extension    a critical extension other than basicConstraints/keyUsage, or
//                                   a profile extension marked critical
//   mesh.cert.basic_constraints     absent, not critical, or not exactly cA FALSE
//   mesh.cert.key_usage             absent, not critical, or not exactly digitalSignature
//   mesh.cert.extended_key_usage    absent, or not exactly {serverAuth, clientAuth}
//   mesh.cert.san                   absent, or anything but exactly one URI name
//   mesh.cert.uri                   not lunal://<tenant>/<deployment>/<instance> with safe segments
//   mesh.cert.common_name           subject CN differs from the instance segment
//   mesh.cert.build_hash            absent or not UTF8String "sha256:<64 lowercase hex>"
//   mesh.cert.tee_type              absent or not UTF8String "tdx" / "sev-snp"
//   mesh.cert.simulated             present but not BOOLEAN TRUE
//
// Thread-safety: free functions over values; safe from any thread.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "lunal/common/bytes.h"
#include "lunal/common/result.h"
#include "lunal/crypto/x509.h"

namespace lunal::mesh {

inline constexpr std::string_view kTeeTdx = "tdx";
inline constexpr std::string_view kTeeSevSnp = "sev-snp";

// What a mesh certificate says about its holder.
struct MeshIdentity {
  std::string tenant;
  std::string deployment;
  std::string instance;
  std::string build_hash;  // "sha256:<64 lowercase hex>"
  std::string tee;         // kTeeTdx or kTeeSevSnp
  bool simulated = false;  // the evidence came from sim-tdx
  std::chrono::sys_seconds not_before{};
  std::chrono::sys_seconds not_after{};
  Bytes spki;              // DER SubjectPublicKeyInfo (the key bound in REPORT_DATA)
  std::string serial_hex;  // as crypto::Certificate::SerialHex prints it

  // "lunal://<tenant>/<deployment>/<instance>"
  std::string Uri() const;
};

// A URI segment is 1..64 characters, all RFC 3986 §2.3 "unreserved" (A-Z a-z 0-9 - . _ ~), and
// neither "." nor "..": such segments need no percent-encoding and cannot change the path.
bool IsSafeSegment(std::string_view segment);

// Builds "lunal://t/d/i". Errors: InvalidArgument "mesh.cert.uri" for an unsafe segment.
Result<std::string> MeshUri(std::string_view tenant, std::string_view deployment,
                            std::string_view instance);

Result<MeshIdentity> ParseMeshCertificate(const crypto::Certificate& certificate);
Result<MeshIdentity> ParseMeshCertificateDer(ByteSpan der);
// Exactly one CERTIFICATE block.
Result<MeshIdentity> ParseMeshCertificatePem(std::string_view pem);

}  // namespace lunal::mesh
