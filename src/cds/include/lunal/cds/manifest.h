// The allow-list manifest (docs/formats/allow-list.md): which builds, measurements and TCB levels
// each (tenant, deployment) may run, signed by the operator key pinned at bootstrap (DSSE,
// payloadType kAllowListPayloadType) and versioned monotonically.
//
//   {"version": 3, "issued_at": "2026-11-21T12:00:00Z",
//    "entries": [{"tenant": "acme", "deployment": "api",
//                 "build_hashes": ["sha256:<64 hex>", …],
//                 "measurements": {"mr_td": ["<96 hex>"], "rtmr0": […], …},     // optional
//                 "allow_simulated": false,                                       // optional
//                 "min_tcb": {"tdx": {"tee_tcb_svn": "<32 hex>", "pce_svn": 13,   // optional
//                                     "qe_isv_svn": 4},
//                             "snp": {"boot_loader": 3, "tee": 0, "snp": 8, "microcode": 115}}}]}
//
// Parsing is strict: unknown members, duplicate (tenant, deployment) pairs, malformed hashes and
// hex of the wrong length are refused with cds.manifest.bad_field (kMalformed), the JSON path in
// the message. ParseAllowList reads the payload only; VerifyManifestEnvelope checks the DSSE
// signature against the pinned key first (cds.manifest.bad_signature, kVerificationFailed) and
// the payload type (cds.manifest.bad_type, kMalformed).
//
// Thread-safety: plain values and pure functions.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lunal/common/bytes.h"
#include "lunal/common/result.h"
#include "lunal/common/time.h"
#include "lunal/crypto/dsse.h"
#include "lunal/crypto/keys.h"

namespace lunal::cds {

inline constexpr std::string_view kAllowListPayloadType = "application/vnd.lunal.allow-list+json";

struct MinTcb {
  std::optional<Bytes> tdx_tee_tcb_svn = std::nullopt;  // 16 bytes, each a minimum
  std::optional<std::uint16_t> tdx_pce_svn = std::nullopt;
  std::optional<std::uint16_t> tdx_qe_isv_svn = std::nullopt;
  std::optional<std::uint8_t> snp_boot_loader = std::nullopt;
  std::optional<std::uint8_t> snp_tee = std::nullopt;
  std::optional<std::uint8_t> snp_snp = std::nullopt;
  std::optional<std::uint8_t> snp_microcode = std::nullopt;
};

struct AllowListEntry {
  std::string tenant = {};
  std::string deployment = {};
  std::vector<std::string> build_hashes = {};
  // Lowercase hex values accepted per measurement name (mr_td, rtmr0..3, mr_config_id for TDX;
  // measurement, host_data for SNP). A name absent accepts anything.
  std::map<std::string, std::vector<std::string>, std::less<>> measurements = {};
  bool allow_simulated = false;
  MinTcb min_tcb = {};
};

struct AllowList {
  std::int64_t version = 0;
  Timestamp issued_at = {};
  std::vector<AllowListEntry> entries = {};

  const AllowListEntry* Find(std::string_view tenant, std::string_view deployment) const;
};

Result<AllowList> ParseAllowList(std::string_view payload_json);

// Parses the DSSE envelope, checks the payload type and the operator's signature, then the
// payload. Returns the envelope (for storage) with the parsed list.
struct VerifiedManifest {
  crypto::DsseEnvelope envelope;
  AllowList list;
};
Result<VerifiedManifest> VerifyManifestEnvelope(std::string_view envelope_json,
                                                const crypto::PublicKey& operator_key);

// True for tenant, deployment and instance names: 1..63 of [a-z0-9-], starting with a letter or
// digit (a DNS label, so names fit URIs and logs without escaping).
bool IsValidName(std::string_view name);

}  // namespace lunal::cds
