// TCB status of a TDX platform, its TDX module and its TD Quoting Enclave, by Intel's rules.
//
//   LUNAL_ASSIGN_OR_RETURN(TcbMatch platform, EvaluatePlatformTcb(tcb_info, pck_ext, quote));
//   LUNAL_ASSIGN_OR_RETURN(QeMatch qe, EvaluateQeIdentity(qe_identity, quote.qe_report));
//   TcbVerdict verdict = ConvergeTcbStatus(platform, qe);   // verdict.status, advisory_ids
//
// The rules follow Intel's reference verifier, intel/SGX-TDX-DCAP-QuoteVerificationLibrary
// ("QVL"; step numbers are the "/// 4.1.2.4.x" comments in its sources):
//   QuoteVerifier.cpp        4.1.2.4.9-10 (TCB Info matches TEE, FMSPC, PCE-ID),
//                            4.1.2.4.11 (TDX module MRSIGNER / attributes), 4.1.2.4.15 (QE)
//   Checks/TcbLevelCheck.cpp 4.1.2.4.17 (level matching and status convergence)
//   Checks/TdxModuleCheck.cpp, Checks/TDRelaunchCheck.cpp, EnclaveReportVerifier.cpp,
//   EnclaveIdentityV2.cpp, Verifiers/TcbStatus.h (status strings)
// and the document semantics of Intel PCS API v4 (TDX TCB Info v3, TD QE identity v2). The
// algorithm, step by step, with where each rule comes from: docs/formats/tdx-collateral.md.
//
// Errors (kVerificationFailed unless noted; stable reasons):
//   tdx.tcb_info.not_tdx, tdx.tcb_info.fmspc_mismatch, tdx.tcb_info.pceid_mismatch
//   tdx.tdx_module.identity_not_found   TEE_TCB_SVN[1] > 0 and no "TDX_%02X" identity
//   tdx.tdx_module.mrsigner_mismatch    MR_SIGNER_SEAM differs from the (module identity's)
//   mrsigner tdx.tdx_module.attributes_mismatch  SEAM_ATTRIBUTES & mask differs from attributes
//   tdx.tdx_module.tcb_not_supported    no module TCB level with isvsvn <= TEE_TCB_SVN[0]
//   tdx.tcb.not_supported               no TCB level matches the PCK's SGX TCB and TEE_TCB_SVN
//   tdx.qe_identity.not_td_qe           the identity is not Intel's TD_QE identity
//   tdx.qe_identity.miscselect_mismatch, .attributes_mismatch, .mrsigner_mismatch,
//   tdx.qe_identity.isvprodid_mismatch, .tcb_not_supported
// Pure functions of their arguments; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lunal/attest/tdx/quote.h"
#include "lunal/common/result.h"
#include "lunal/common/time.h"

namespace lunal::attest::tdx {

struct TcbInfo;
struct QeIdentity;
struct PckExtensions;

// Intel's TCB status values. The first seven appear in collateral documents (PCS API v4 TCB Info
// `tcbStatus`); the last two are results only (QVL TDRelaunchCheck.cpp, TD1.5 quotes). A TCB that
// matches no level is not a status but an error (tdx.tcb.not_supported).
enum class TcbStatus : std::uint8_t {
  kUpToDate,
  kSWHardeningNeeded,
  kConfigurationNeeded,
  kConfigurationAndSWHardeningNeeded,
  kOutOfDate,
  kOutOfDateConfigurationNeeded,
  kRevoked,
  kTDRelaunchAdvised,
  kTDRelaunchAdvisedConfigurationNeeded,
};

// Intel's spelling: "UpToDate", "SWHardeningNeeded", ..., "TDRelaunchAdvisedConfigurationNeeded".
std::string_view TcbStatusName(TcbStatus status);
// The inverse of TcbStatusName over all nine names; nullopt for anything else.
std::optional<TcbStatus> TcbStatusFromName(std::string_view name);

// The platform's TCB: where the PCK certificate's SGX TCB and the quote's TEE_TCB_SVN fall in the
// TCB Info, and the TDX module's own status.
struct TcbMatch {
  std::size_t sgx_level_index;  // into TcbInfo::tcb_levels: first level the SGX TCB meets
  std::size_t tdx_level_index;  // first level both the SGX TCB and TEE_TCB_SVN meet
  TcbStatus sgx_status;         // that level's tcbStatus
  TcbStatus tdx_level_status;   // the TDX level's tcbStatus
  // TEE_TCB_SVN[1] > 0 only: the module identity "TDX_%02X" and its level's status.
  std::optional<std::string> tdx_module_id;
  std::optional<TcbStatus> tdx_module_status;
  // tdx_level_status converged with the module status (QVL convergeTcbStatusWithTdxModuleStatus).
  TcbStatus status;
  // TD1.5 only: the status QVL's TD relaunch check gives when the QE is up to date
  // (TDRelaunchAdvised[ConfigurationNeeded]); nullopt when relaunching would not help.
  std::optional<TcbStatus> relaunch_status;
  Timestamp tcb_date;  // the TDX level's tcbDate
  std::optional<Timestamp> module_tcb_date;
  std::vector<std::string> advisory_ids;  // SGX level ∪ TDX level ∪ module level, first-seen order
};

struct QeMatch {
  std::size_t level_index;  // into QeIdentity::tcb_levels
  std::uint16_t level_isv_svn;
  TcbStatus status;  // the level's tcbStatus (UpToDate, OutOfDate, Revoked, ...)
  Timestamp tcb_date;
  std::vector<std::string> advisory_ids;
};

// The final answer for a quote: the platform status converged with the QE's.
struct TcbVerdict {
  TcbStatus status;
  TcbStatus platform_status;  // TcbMatch::status (before relaunch advice and the QE)
  TcbStatus qe_status;
  std::optional<TcbStatus> tdx_module_status;
  Timestamp tcb_date;  // the earliest tcbDate among the matched platform, module and QE levels
  std::vector<std::string> advisory_ids;  // platform's, then the QE's, without duplicates
};

// QVL 4.1.2.4.9-11 and 4.1.2.4.17 up to (not including) the QE convergence. `tcb_info` must be
// the TDX TCB Info for the PCK's FMSPC and PCE-ID (checked again here).
Result<TcbMatch> EvaluatePlatformTcb(const TcbInfo& tcb_info, const PckExtensions& pck,
                                     const QuoteView& quote);

// QVL 4.1.2.4.14-15 (EnclaveReportVerifier): identity fields, then the QE's TCB level.
Result<QeMatch> EvaluateQeIdentity(const QeIdentity& qe_identity, const QeReport& qe_report);

// QVL TcbLevelCheck.cpp: TD relaunch advice (TD1.5), then convergeTcbStatusWithQeTcbStatus.
TcbVerdict ConvergeTcbStatus(const TcbMatch& platform, const QeMatch& qe);

}  // namespace lunal::attest::tdx
