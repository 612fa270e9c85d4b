// The mesh certificate profile: what a CDS-issued instance certificate carries and how every
// Lunal component names it (docs/protocols/cds.md, "Mesh certificates"). Shared by the issuer
// (src/cds) and the checker (the mesh library).
//
//   subject        CN=<instance>
//   SAN            URI lunal://<tenant>/<deployment>/<instance> (exactly one URI SAN)
//   key            ECDSA P-256 (the instance key; its SPKI is bound in REPORT_DATA)
//   basic constr.  CA:FALSE (critical);  key usage digitalSignature (critical)
//   ext. key usage serverAuth, clientAuth
//   validity       issued-at minus 60 s … issued-at + lifetime (default 1 hour)
//   extensions     (non-critical, OIDs below)
//     build hash   UTF8String "sha256:<64 lowercase hex>"
//     TEE type     UTF8String "tdx" | "sev-snp"
//     simulated    BOOLEAN TRUE, present only when the evidence came from sim-tdx
//
// OIDs: a UUID-derived arc (ITU-T X.667 / RFC 4122 §4: "2.25." + the UUID as one integer; no
// registration needed), UUID ef67ef4d-0c4a-43af-aa91-8a428873b8d2.
#pragma once

#include <cstdint>
#include <string_view>

#include "lunal/common/bytes.h"

namespace lunal::mesh {

inline constexpr std::string_view kOidArc = "2.25.318225151169291367484866792050312591570";
inline constexpr std::string_view kOidBuildHash = "2.25.318225151169291367484866792050312591570.1";
inline constexpr std::string_view kOidTeeType = "2.25.318225151169291367484866792050312591570.2";
inline constexpr std::string_view kOidSimulated = "2.25.318225151169291367484866792050312591570.3";

inline constexpr std::string_view kUriScheme = "lunal";  // lunal://tenant/deployment/instance

// The DER UTF8String (X.690 §8.23, tag 12) that carries the build-hash and TEE-type extension
// values. Profile values are short; lengths up to 65535 are encoded (long form above 127).
inline Bytes Utf8StringDer(std::string_view text) {
  const std::size_t n = text.size();
  Bytes out;
  out.reserve(n + 4);
  out.push_back(0x0c);
  if (n < 0x80) {
    out.push_back(static_cast<std::uint8_t>(n));
  } else {
    out.push_back(0x82);
    out.push_back(static_cast<std::uint8_t>((n >> 8) & 0xff));
    out.push_back(static_cast<std::uint8_t>(n & 0xff));
  }
  for (const char c : text) out.push_back(static_cast<std::uint8_t>(c));
  return out;
}

}  // namespace lunal::mesh
