// The Azure HCL report: what the paravisor (Azure's "host compatibility layer", HCL) in a
// confidential VM writes to vTPM NV index 0x01400001. It wraps the hardware report (an SNP
// attestation report, or a TDX TDREPORT to be turned into a quote) together with the runtime
// data the hardware report binds: a JSON document holding the vTPM's attestation key.
//
// Layout (docs/formats/azure-vtpm.md; facts from Microsoft's az-cvm-vtpm crate, hcl module, and
// the real reports in ../shared/evidence), all integers little-endian:
//
//   0x000  header (32)      "HCLA" | version u32 | report_size u32 | request_type u32 |
//                           status u32 | reserved 3 × u32
//   0x020  hw_report (1184) SNP report (1184) | TDREPORT (1024) + 160 zero bytes
//   0x4C0  runtime header   data_size u32 | version u32 | report_type u32 | hash_type u32 |
//                           variable_data_size u32
//   0x4D4  variable data    the runtime JSON (variable_data_size bytes)
//   ...    zero padding     up to the end of the NV index read (2600 bytes in practice)
//
// report_size counts header, hardware report and runtime data (data_size = 20 + the JSON).
// The hardware report's REPORT_DATA is hash_type(runtime JSON) followed by zeros; checking that
// needs the verified hardware report and lives in verify.h. Parsing is strict: wrong magic,
// sizes that disagree, non-zero reserved fields or padding, unknown report or hash types fail.
//
// Errors (stable reasons, kMalformed unless noted): azure.hcl.magic, azure.hcl.header.truncated,
// azure.hcl.report_size (disagrees with the parts or the buffer), azure.hcl.status (non-zero),
// azure.hcl.reserved.not_zero, azure.hcl.hw_report.truncated, azure.hcl.runtime.truncated,
// azure.hcl.runtime.data_size, azure.hcl.runtime.version, azure.hcl.report_type
// (kUnsupported: VBS and others), azure.hcl.hash_type (kUnsupported),
// azure.hcl.padding.not_zero, azure.hcl.tdreport.padding.not_zero and tdx.tdreport.*, and
// ParseRuntimeData's azure.runtime.* below.
//
// Views borrow the input bytes. Pure functions; thread-safe.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "lunal/attest/layout.h"
#include "lunal/attest/tdx/td_report.h"
#include "lunal/common/bytes.h"
#include "lunal/common/json.h"
#include "lunal/common/result.h"

namespace lunal::attest::azure {

namespace layout {
inline constexpr std::string_view kHclMagic = "HCLA";
inline constexpr Field kMagic{0x00, 4};
inline constexpr Field kVersion{0x04, 4};
inline constexpr Field kReportSize{0x08, 4};
inline constexpr Field kRequestType{0x0C, 4};
inline constexpr Field kStatus{0x10, 4};
inline constexpr Field kReserved{0x14, 12};
inline constexpr Field kHwReport{0x20, 1184};
inline constexpr std::size_t kHeaderSize = 0x20;
static_assert(Tiles(kHeaderSize + kHwReport.size, kMagic, kVersion, kReportSize, kRequestType,
                    kStatus, kReserved, kHwReport));

// The runtime data header, relative to its start (kHwReport.end()).
inline constexpr Field kDataSize{0x00, 4};
inline constexpr Field kRuntimeVersion{0x04, 4};
inline constexpr Field kReportType{0x08, 4};
inline constexpr Field kHashType{0x0C, 4};
inline constexpr Field kVariableDataSize{0x10, 4};
inline constexpr std::size_t kRuntimeHeaderSize = 0x14;
static_assert(Tiles(kRuntimeHeaderSize, kDataSize, kRuntimeVersion, kReportType, kHashType,
                    kVariableDataSize));
inline constexpr std::size_t kRuntimeOffset = kHwReport.end();

}  // namespace layout

// The runtime header's report_type: which hardware report the HCL report wraps.
enum class HclReportType : std::uint32_t { kSnp = 2, kTdx = 4 };
// The runtime header's hash_type: how REPORT_DATA binds the runtime JSON.
enum class HclHashType : std::uint32_t { kSha256 = 1, kSha384 = 2, kSha512 = 3 };

std::string_view HclReportTypeName(HclReportType type);  // "snp", "tdx"
std::string_view HclHashTypeName(HclHashType type);      // "sha256", "sha384", "sha512"

struct HclReportView {
  std::uint32_t version = 0;       // header version (1 and 2 seen)
  std::uint32_t report_size = 0;   // header + hardware report + runtime data
  std::uint32_t request_type = 0;  // 2 in every report seen
  HclReportType report_type = HclReportType::kSnp;
  HclHashType hash_type = HclHashType::kSha256;
  ByteSpan hw_report;       // 1184 bytes: the SNP report, or the TDREPORT and its zero padding
  ByteSpan runtime_data;    // the runtime JSON, exactly as hashed into REPORT_DATA
  std::size_t padding = 0;  // zero bytes after report_size
};

// Parses an HCL report (the NV index contents, possibly zero-padded).
Result<HclReportView> ParseHclReport(ByteSpan bytes);

// The TDREPORT in a TDX HCL report's hardware area (tdx::ParseTdReport on its first 1024 bytes;
// the 160 after it must be zero). The MAC is not checked: only the TDX module that made it can.
Result<tdx::TdReportView> ParseHclTdReport(ByteSpan hw_report);

// An RSA public key from the runtime data's JWK set (RFC 7517 §4, RFC 7518 §6.3.1).
struct RsaJwk {
  std::string kid;
  Bytes n, e;  // big-endian, as decoded from base64url
};

// The runtime JSON: {"keys": [{"kid": "HCLAkPub", "kty": "RSA", "n", "e", ...},
// {"kid": "HCLEkPub", ...}], "vm-configuration": {...}, "user-data": "<hex>"}.
struct RuntimeData {
  RsaJwk attestation_key;                  // "HCLAkPub": signs vTPM quotes
  std::optional<RsaJwk> endorsement_key;   // "HCLEkPub"
  Json vm_configuration = Json::object();  // "vm-configuration" (secure-boot, tpm-enabled, ...)
  std::string user_data;                   // "user-data" (hex; may be absent: empty)
};

// Parses the runtime JSON strictly (json.* reasons, duplicate keys refused) and extracts the
// keys. Errors: azure.runtime.not_object, azure.runtime.keys (missing or not an array),
// azure.runtime.key (a key that is not an RSA JWK with kid, n and e), azure.runtime.duplicate_kid,
// azure.runtime.missing_ak (no "HCLAkPub").
Result<RuntimeData> ParseRuntimeData(ByteSpan json);

}  // namespace lunal::attest::azure
