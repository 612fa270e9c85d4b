// Claims: the neutral input of an appraisal, made from a verifier's result (or by hand in tests),
// so that the policy rules are written once for every TEE.
//
//   Claims c = ClaimsFrom(tdx_verification, event_log_check.lunal_build_hash);
//   Claims c = ClaimsFrom(snp_verification);
//
// Claims say what the evidence states; they are only as trustworthy as the verification they
// came from: build them from a TdxVerification / SnpVerification (which only the verifiers
// construct), never from unverified bytes.
//
// Thread-safety: plain values; ClaimsFrom is a pure function.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "lunal/attest/policy/policy.h"
#include "lunal/common/bytes.h"

namespace lunal::attest::tdx {
struct TdxVerification;
}  // namespace lunal::attest::tdx
namespace lunal::attest::snp {
struct SnpVerification;
}  // namespace lunal::attest::snp

namespace lunal::attest::policy {

struct TdxTcbClaims {
  Bytes tee_tcb_svn = {};        // the TD report's 16 bytes
  std::uint16_t pce_svn = 0;     // the PCK certificate's PCESVN
  std::uint16_t qe_isv_svn = 0;  // the QE report's ISVSVN
};

struct SnpTcbClaims {                              // REPORTED_TCB, decoded for the report's product
  std::optional<std::uint8_t> fmc = std::nullopt;  // Turin only
  std::uint8_t boot_loader = 0;
  std::uint8_t tee = 0;
  std::uint8_t snp = 0;
  std::uint8_t microcode = 0;
};

struct Claims {
  TeeType tee = TeeType::kTdx;
  bool simulated = false;
  bool debug = false;
  // By the names of MeasurementNames(tee): TDX mr_td, rtmr0..3, mr_config_id; SNP measurement,
  // host_data.
  std::map<std::string, Bytes, std::less<>> measurements = {};
  // "sha256:<hex>": TDX from the replayed event log's lunal.build-hash event, SNP from HOST_DATA.
  std::optional<std::string> build_hash = std::nullopt;
  // Intel's TCB status name and advisory ids (TDX); SNP reports carry no status (nullopt).
  std::optional<std::string> tcb_status = std::nullopt;
  std::vector<std::string> advisory_ids = {};
  std::optional<TdxTcbClaims> tdx_tcb = std::nullopt;
  std::optional<SnpTcbClaims> snp_tcb = std::nullopt;
  std::optional<std::uint32_t> vmpl = std::nullopt;       // SNP
  std::optional<std::uint32_t> guest_svn = std::nullopt;  // SNP
  Bytes report_data = {};                                 // 64 bytes
};

// `event_log_build_hash`: EventLogCheck::lunal_build_hash of the quote's replayed event log (set
// only when RTMR3 matched), or nullopt when there is no log or no such event.
Claims ClaimsFrom(const tdx::TdxVerification& verification,
                  const std::optional<std::string>& event_log_build_hash = std::nullopt);

// The build hash is HOST_DATA (DESIGN.md: "On SNP the build hash is carried in HOST_DATA") as
// "sha256:<hex>", unless HOST_DATA is all zero (the host set none).
Claims ClaimsFrom(const snp::SnpVerification& verification);

}  // namespace lunal::attest::policy
