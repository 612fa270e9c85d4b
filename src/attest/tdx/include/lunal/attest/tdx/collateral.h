// Intel TDX collateral documents: TDX TCB Info (version 3) and TD QE identity (version 2), as
// Intel's Provisioning Certification Service serves them:
//
//   {"tcbInfo":{...},"signature":"<128 hex: ECDSA P-256 r‖s>"}
//   {"enclaveIdentity":{...},"signature":"<128 hex>"}
//
// Sources: Intel PCS API v4 documentation, "TDX TCB Info V3" and "Enclave Identity V2" JSON
// schemas; parsing rules cross-checked with QVL (intel/SGX-TDX-DCAP-QuoteVerificationLibrary,
// AttestationParsers/src/Json/TcbInfo.cpp, TcbLevel.cpp, TcbComponent.cpp, TdxModuleIdentity.cpp,
// AttestationLibrary/src/Verifiers/EnclaveIdentityV2.cpp). Field table: docs/formats/
// tdx-collateral.md.
//
// Parsing is strict: the wrapper is parsed by lunal::ParseJson (duplicate keys refused), the exact
// served bytes of the inner value are located by a raw scanner (`signed_bytes`: what Intel's
// signature covers) and every field is then read FROM those bytes, so nothing is used that the
// signature does not cover. Each field is type-checked; hex fields have exact lengths; dates are
// RFC 3339; SVNs are range-checked (a TCB component SVN is a byte). Unknown fields are ignored
// (QVL ignores them too; they are inside the signed bytes). TCB levels are ordered as QVL orders
// them (highest TCB first) and duplicates are refused. No signature is checked here: see
// collateral_pool.h.
//
// Errors, with <doc> = tdx.tcb_info or tdx.qe_identity (stable reasons; messages name the JSON
// path, e.g. "tcbInfo.tcbLevels[1].tcb.sgxtcbcomponents[3].svn"):
//   kMalformed   json.syntax / json.duplicate_key / json.too_deep (the document is not strict
//                JSON), <doc>.missing_field, <doc>.wrong_type, <doc>.bad_hex, <doc>.bad_length,
//                <doc>.bad_date, <doc>.bad_validity (nextUpdate not after issueDate),
//                <doc>.out_of_range, <doc>.bad_tcb_status, <doc>.bad_component_count,
//                <doc>.empty_tcb_levels, <doc>.duplicate_tcb_level,
//                tdx.tcb_info.duplicate_module_identity, tdx.raw_json.* (see raw_json.h)
//   kUnsupported <doc>.unsupported_id (e.g. an SGX TCB Info, a QE or QVE identity),
//                <doc>.unsupported_version, tdx.tcb_info.unsupported_tcb_type
// Structs are plain values (copyable, thread-safe to share once built).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "lunal/attest/tdx/tcb_status.h"
#include "lunal/common/result.h"
#include "lunal/common/time.h"

namespace lunal::attest::tdx {

inline constexpr std::string_view kTcbInfoIdTdx = "TDX";
inline constexpr int kTcbInfoVersion = 3;
inline constexpr std::string_view kQeIdentityIdTdQe = "TD_QE";
inline constexpr int kQeIdentityVersion = 2;

// One element of tcbInfo.tcbLevels (TDX TCB Info v3).
struct TdxTcbLevel {
  std::array<std::uint8_t, 16> sgx_components;  // tcb.sgxtcbcomponents[i].svn
  std::uint16_t pce_svn;                        // tcb.pcesvn
  std::array<std::uint8_t, 16> tdx_components;  // tcb.tdxtcbcomponents[i].svn
  Timestamp tcb_date;
  TcbStatus status;  // one of the seven document statuses
  std::vector<std::string> advisory_ids;
};

// A level keyed by one ISV SVN: TDX module identity levels and QE identity levels.
struct IsvTcbLevel {
  std::uint16_t isv_svn;  // tcb.isvsvn
  Timestamp tcb_date;
  TcbStatus status;  // UpToDate, OutOfDate or Revoked (QE identity: also the Configuration ones)
  std::vector<std::string> advisory_ids;
};

// tcbInfo.tdxModule, or the identity part of a tdxModuleIdentities entry.
struct TdxModuleIdentity {
  std::string id;  // "TDX_01", ...; empty for tcbInfo.tdxModule
  std::array<std::uint8_t, 48> mrsigner;
  std::array<std::uint8_t, 8> attributes;
  std::array<std::uint8_t, 8> attributes_mask;
  std::vector<IsvTcbLevel> tcb_levels;  // empty for tcbInfo.tdxModule; highest isvsvn first
};

struct TcbInfo {
  std::string id;  // "TDX"
  int version;     // 3
  Timestamp issue_date;
  Timestamp next_update;
  std::array<std::uint8_t, 6> fmspc;
  std::array<std::uint8_t, 2> pce_id;
  int tcb_type;  // 0
  std::uint32_t tcb_evaluation_data_number;
  TdxModuleIdentity tdx_module;
  std::vector<TdxModuleIdentity> tdx_module_identities;  // may be empty (older documents)
  std::vector<TdxTcbLevel> tcb_levels;                   // non-empty; highest TCB first

  std::string signed_bytes;                // the exact served bytes of the "tcbInfo" value
  std::array<std::uint8_t, 64> signature;  // r‖s over signed_bytes, by Intel SGX TCB Signing

  // The tdxModuleIdentities entry whose id is "TDX_%02X" of `major` (compared case-insensitively,
  // as QVL does); nullptr when there is none.
  const TdxModuleIdentity* FindModuleIdentity(std::uint8_t major) const;
  std::string FmspcHex() const;  // lowercase
};

struct QeIdentity {
  std::string id;  // "TD_QE"
  int version;     // 2
  Timestamp issue_date;
  Timestamp next_update;
  std::uint32_t tcb_evaluation_data_number;
  std::array<std::uint8_t, 4> miscselect;  // bytes in the QE report's (little-endian) order
  std::array<std::uint8_t, 4> miscselect_mask;
  std::array<std::uint8_t, 16> attributes;
  std::array<std::uint8_t, 16> attributes_mask;
  std::array<std::uint8_t, 32> mrsigner;
  std::uint16_t isv_prod_id;
  std::vector<IsvTcbLevel> tcb_levels;  // non-empty; highest isvsvn first

  std::string signed_bytes;  // the exact served bytes of the "enclaveIdentity" value
  std::array<std::uint8_t, 64> signature;
};

// Parses a whole PCS response body ({"tcbInfo":…,"signature":…}).
Result<TcbInfo> ParseTcbInfo(std::string_view document);
// Parses a whole PCS response body ({"enclaveIdentity":…,"signature":…}).
Result<QeIdentity> ParseQeIdentity(std::string_view document);

}  // namespace lunal::attest::tdx
