// REPORT_DATA binding, fixed for every Lunal component and client (DESIGN.md "Binding formats";
// docs/protocols/report-data.md):
//
//   REPORT_DATA (64 bytes) = SHA-512( "lunal/report-data/v1" ‖ 0x00 ‖ purpose ‖ 0x00 ‖ payload )
//
// where `purpose` names what is bound ("instance", "build", "beacon", …) and `payload` is the
// canonical JSON (sorted keys, no whitespace; lunal::CanonicalJson) of the bound values. A
// verifier recomputes the 64 bytes from the values it expects and compares all of them: nothing
// is compared by prefix.
//
//   InstanceBinding b{.key_spki_der = spki, .nonce = nonce, .build_hash = "sha256:…"};
//   LUNAL_ASSIGN_OR_RETURN(ReportData rd, ReportDataFor(b));
//   LUNAL_ASSIGN_OR_RETURN(Evidence ev, attester->Attest(rd));
//
// Errors: binding.bad_purpose (empty, or contains NUL), binding.bad_payload (not a JSON object,
// or not canonicalisable), binding.bad_build_hash (not "sha256:" + 64 lowercase hex),
// binding.empty_key — all kInvalidArgument. Pure functions; thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "lunal/common/bytes.h"
#include "lunal/common/json.h"
#include "lunal/common/result.h"

namespace lunal::attest {

using ReportData = std::array<std::uint8_t, 64>;

inline constexpr std::string_view kReportDataDomain = "lunal/report-data/v1";
inline constexpr std::string_view kPurposeInstance = "instance";
inline constexpr std::string_view kPurposeBuild = "build";
inline constexpr std::string_view kPurposeBeacon = "beacon";
inline constexpr std::string_view kPurposeSecretRelease = "secret-release";

// The bytes hashed: domain ‖ 0 ‖ purpose ‖ 0 ‖ CanonicalJson(payload). `payload` must be an
// object.
Result<Bytes> ReportDataPreimage(std::string_view purpose, const Json& payload);
Result<ReportData> ComputeReportData(std::string_view purpose, const Json& payload);

// "sha256:" + lowercase hex of SHA-256(SubjectPublicKeyInfo DER): how a public key is named in
// every binding payload.
std::string KeyDigest(ByteSpan spki_der);

// True when `s` is "sha256:" followed by exactly 64 lowercase hex digits.
bool IsSha256Ref(std::string_view s);

// purpose "instance": {"build_hash": …, "key": KeyDigest(spki), "nonce": …}. The nonce is carried
// as given (the CDS's challenge is base64url text). build_hash may be empty when the instance
// runs no Lunal build (then the member is left out).
struct InstanceBinding {
  Bytes key_spki_der = {};
  std::string nonce = {};
  std::string build_hash = {};
};
Result<Json> InstancePayload(const InstanceBinding& b);
Result<ReportData> ReportDataFor(const InstanceBinding& b);

// purpose "build": {"builder_key": KeyDigest(spki)} — an attested builder binds the key that signs
// its provenance (docs/formats/provenance.md).
Result<ReportData> BuilderReportData(ByteSpan builder_spki_der);

}  // namespace lunal::attest
