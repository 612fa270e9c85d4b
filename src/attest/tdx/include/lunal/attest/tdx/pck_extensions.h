// The Intel SGX extension of a PCK certificate (OID 1.2.840.113741.1.13.1): the platform's TCB
// (16 SGX TCB component SVNs, PCESVN, CPUSVN), FMSPC, PCE-ID and SGX type, which select the TCB
// Info and the TCB level a TDX quote is judged by.
//
// Source: Intel "SGX PCK Certificate and Certificate Revocation List Profile Specification",
// §1.3.5 "Intel SGX Extensions" (the OID table below); cross-checked with QVL
// PckParser/PckParser.cpp and the extensions of the real PCK certificates in ../shared/evidence.
//
//   SGXExtensions ::= SEQUENCE OF SEQUENCE { extnId OBJECT IDENTIFIER, extnValue ANY }
//     .1  PPID                  OCTET STRING (16)
//     .2  TCB                   SEQUENCE OF SEQUENCE { OID, value }:
//           .2.1 … .2.16  SGX TCB COMPn SVN   INTEGER (0..255)
//           .2.17         PCESVN              INTEGER (0..65535)
//           .2.18         CPUSVN              OCTET STRING (16)
//     .3  PCE-ID                OCTET STRING (2)
//     .4  FMSPC                 OCTET STRING (6)
//     .5  SGX Type              ENUMERATED (0 Standard, 1 Scalable, 2 Scalable with integrity)
//     .6  PlatformInstanceID    OCTET STRING (16)      optional (Platform CA certificates)
//     .7  Configuration         SEQUENCE OF SEQUENCE { OID, BOOLEAN }, optional:
//           .7.1 dynamicPlatform, .7.2 cachedKeys, .7.3 SMTEnabled (each optional)
//
// The parser reads DER only (definite minimal lengths), requires .1-.5 and .2.1-.2.18 exactly
// once, refuses duplicates and anything malformed, and skips well-formed entries with other OIDs
// (Intel may add some; they are inside the signed certificate).
//
// Errors (kMalformed; stable reasons): tdx.pck_ext.truncated, .bad_tag, .bad_length,
// .bad_integer, .out_of_range, .bad_boolean, .bad_oid, .trailing_bytes (see der_reader.h),
// tdx.pck_ext.bad_size (an OCTET STRING of the wrong size), tdx.pck_ext.missing (a required
// entry is absent), tdx.pck_ext.duplicate, tdx.pck_ext.bad_sgx_type.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "lunal/common/bytes.h"
#include "lunal/common/result.h"

namespace lunal::attest::tdx {

inline constexpr std::string_view kSgxExtensionOid = "1.2.840.113741.1.13.1";

enum class SgxType : std::uint8_t { kStandard = 0, kScalable = 1, kScalableWithIntegrity = 2 };

struct PckExtensions {
  std::array<std::uint8_t, 16> ppid;
  std::array<std::uint8_t, 16> sgx_tcb_components;  // .2.1 … .2.16 (what TCB levels compare)
  std::uint16_t pce_svn;                            // .2.17
  std::array<std::uint8_t, 16> cpu_svn;             // .2.18 (raw CPUSVN, for display)
  std::array<std::uint8_t, 2> pce_id;
  std::array<std::uint8_t, 6> fmspc;
  SgxType sgx_type;
  std::optional<std::array<std::uint8_t, 16>> platform_instance_id;
  std::optional<bool> dynamic_platform;
  std::optional<bool> cached_keys;
  std::optional<bool> smt_enabled;

  std::string FmspcHex() const;  // lowercase, as TCB Info lookups use it
};

// Parses the extension's extnValue contents (what crypto::Certificate::Extension(kSgxExtensionOid)
// returns: the DER SEQUENCE inside the OCTET STRING).
Result<PckExtensions> ParsePckExtensions(ByteSpan der);

// The CA that issued a PCK certificate, which decides the PCK CRL to check it against (Intel PCS
// API v4 "Get PCK Cert CRL": ca=platform | processor).
enum class PckCa : std::uint8_t { kPlatform, kProcessor };

inline constexpr std::string_view kPckPlatformCaName = "Intel SGX PCK Platform CA";
inline constexpr std::string_view kPckProcessorCaName = "Intel SGX PCK Processor CA";
// The simulated TDX backend's Platform CA (src/attest/sim, docs/formats/sim-tdx.md). It plays the
// Platform CA's role (its CRL is the "platform" PCK CRL); the name grants no trust: a chain through
// it verifies only when it ends at a pinned root, and the simulation root is pinned only by
// explicit configuration.
inline constexpr std::string_view kSimPckPlatformCaName = "Lunal Simulated PCK Platform CA";

// The issuing CA from the PCK certificate's issuer name in RFC 2253 form ("CN=Intel SGX PCK
// Platform CA,O=Intel Corporation,…", as crypto::Certificate::IssuerName() gives it): its one
// common name must be exactly one of the three names above.
// Errors: tdx.pck.unknown_issuer (kVerificationFailed).
Result<PckCa> PckCaFromIssuerName(std::string_view issuer_rfc2253);
std::string_view PckCaName(PckCa ca);

}  // namespace lunal::attest::tdx
