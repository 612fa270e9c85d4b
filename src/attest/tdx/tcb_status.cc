// TCB status evaluation, after QVL (intel/SGX-TDX-DCAP-QuoteVerificationLibrary): step numbers
// in comments are QVL's "/// 4.1.2.4.x" markers (QuoteVerifier.cpp, Checks/TcbLevelCheck.cpp,
// Checks/TdxModuleCheck.cpp, Checks/TDRelaunchCheck.cpp, EnclaveReportVerifier.cpp).
#include "lunal/attest/tdx/tcb_status.h"

#include <algorithm>
#include <array>
#include <utility>

#include "lunal/attest/tdx/collateral.h"
#include "lunal/attest/tdx/pck_extensions.h"
#include "lunal/common/encoding.h"

namespace lunal::attest::tdx {
namespace {

constexpr std::array<std::pair<TcbStatus, std::string_view>, 9> kNames = {{
    {TcbStatus::kUpToDate, "UpToDate"},
    {TcbStatus::kSWHardeningNeeded, "SWHardeningNeeded"},
    {TcbStatus::kConfigurationNeeded, "ConfigurationNeeded"},
    {TcbStatus::kConfigurationAndSWHardeningNeeded, "ConfigurationAndSWHardeningNeeded"},
    {TcbStatus::kOutOfDate, "OutOfDate"},
    {TcbStatus::kOutOfDateConfigurationNeeded, "OutOfDateConfigurationNeeded"},
    {TcbStatus::kRevoked, "Revoked"},
    {TcbStatus::kTDRelaunchAdvised, "TDRelaunchAdvised"},
    {TcbStatus::kTDRelaunchAdvisedConfigurationNeeded, "TDRelaunchAdvisedConfigurationNeeded"},
}};

// 4.1.2.4.17.1-2 (isCpuSvnHigherOrEqual): every SGX TCB component and the PCESVN at least the
// level's.
bool SgxTcbMeets(const PckExtensions& pck, const TdxTcbLevel& level) {
  for (std::size_t i = 0; i < 16; ++i) {
    if (pck.sgx_tcb_components[i] < level.sgx_components[i]) return false;
  }
  return pck.pce_svn >= level.pce_svn;
}

// 4.1.2.4.17.3 (isTdxTcbHigherOrEqual): every TEE_TCB_SVN byte at least the level's
// tdxtcbcomponents; when TEE_TCB_SVN[1] (the TDX module's major version) is non-zero, bytes 0-1
// are judged by the module identity instead and skipped here.
bool TdxTcbMeets(FixedSpan<16> tee_tcb_svn, const TdxTcbLevel& level) {
  for (std::size_t i = tee_tcb_svn[1] > 0 ? 2 : 0; i < 16; ++i) {
    if (tee_tcb_svn[i] < level.tdx_components[i]) return false;
  }
  return true;
}

// 4.1.2.4.11.1-2: MR_SIGNER_SEAM equals the identity's mrsigner, and SEAM_ATTRIBUTES under the
// mask equal its attributes. (QVL compares the attributes unmasked and requires them zero; with
// every published identity, mask FFFFFFFFFFFFFFFF and attributes 0, the two rules agree.)
Status CheckModuleIdentity(const TdxModuleIdentity& identity, const TdReportBody& body) {
  // Named in messages only (no formatting on the success path).
  auto which = [&] {
    return identity.id.empty() ? std::string("tdxModule")
                               : fmt::format("TDX module identity {}", identity.id);
  };
  if (!std::equal(identity.mrsigner.begin(), identity.mrsigner.end(),
                  body.mr_signer_seam.begin())) {
    return VerificationFailed(
        "tdx.tdx_module.mrsigner_mismatch", "MR_SIGNER_SEAM {} differs from {} mrsigner {}",
        HexEncode(body.mr_signer_seam), which(), HexEncode(identity.mrsigner));
  }
  for (std::size_t i = 0; i < 8; ++i) {
    if ((body.seam_attributes[i] & identity.attributes_mask[i]) != identity.attributes[i]) {
      return VerificationFailed("tdx.tdx_module.attributes_mismatch",
                                "SEAM_ATTRIBUTES {} under mask {} differ from {} attributes {}",
                                HexEncode(body.seam_attributes),
                                HexEncode(identity.attributes_mask), which(),
                                HexEncode(identity.attributes));
    }
  }
  return Status::Ok();
}

// QVL convergeTcbStatusWithTdxModuleStatus (TdxModuleCheck.cpp).
TcbStatus ConvergeWithModule(TcbStatus level, TcbStatus module) {
  if (module == TcbStatus::kOutOfDate) {
    if (level == TcbStatus::kUpToDate || level == TcbStatus::kSWHardeningNeeded) {
      return TcbStatus::kOutOfDate;
    }
    if (level == TcbStatus::kConfigurationNeeded ||
        level == TcbStatus::kConfigurationAndSWHardeningNeeded) {
      return TcbStatus::kOutOfDateConfigurationNeeded;
    }
  }
  if (module == TcbStatus::kRevoked) return TcbStatus::kRevoked;
  return level;
}

bool ConfigurationNeeded(TcbStatus s) {  // TDRelaunchCheck.cpp isConfigurationNeeded
  return s == TcbStatus::kConfigurationNeeded || s == TcbStatus::kOutOfDateConfigurationNeeded ||
         s == TcbStatus::kConfigurationAndSWHardeningNeeded ||
         s == TcbStatus::kTDRelaunchAdvisedConfigurationNeeded;
}

// 4.1.2.4.17.4.3 (TDRelaunchCheck.cpp checkForRelaunch), without the QE condition, which
// ConvergeTcbStatus applies: would relaunching the TD on this platform bring it up to date?
Result<std::optional<TcbStatus>> RelaunchStatus(const TcbInfo& info, FixedSpan<16> svn2,
                                                const TcbMatch& m) {
  bool sgx_ok = m.sgx_status == TcbStatus::kUpToDate ||
                m.sgx_status == TcbStatus::kSWHardeningNeeded ||
                m.sgx_status == TcbStatus::kConfigurationNeeded ||
                m.sgx_status == TcbStatus::kConfigurationAndSWHardeningNeeded;
  bool tdx_out_of_date =
      m.status == TcbStatus::kOutOfDate || m.status == TcbStatus::kOutOfDateConfigurationNeeded;
  if (!sgx_ok || !tdx_out_of_date || m.tdx_module_status != TcbStatus::kOutOfDate) {
    return std::optional<TcbStatus>();
  }
  const TdxTcbLevel& latest = info.tcb_levels.front();
  std::uint16_t want_module_svn = latest.tdx_components[0];
  if (svn2[1] != 0) {
    const TdxModuleIdentity* identity = info.FindModuleIdentity(svn2[1]);
    if (identity == nullptr) {
      return VerificationFailed("tdx.tdx_module.identity_not_found",
                                "TEE_TCB_SVN_2 names TDX module TDX_{:02X}, which TCB Info for "
                                "FMSPC {} does not list",
                                svn2[1], info.FmspcHex());
    }
    if (identity->tcb_levels.empty()) {  // parsed documents never have this; built ones might
      return VerificationFailed("tdx.tdx_module.tcb_not_supported",
                                "TDX module identity {} has no TCB levels", identity->id);
    }
    want_module_svn = identity->tcb_levels.front().isv_svn;
  }
  if (svn2[0] < want_module_svn || svn2[2] < latest.tdx_components[2]) {
    return std::optional<TcbStatus>();
  }
  return std::optional<TcbStatus>(ConfigurationNeeded(m.sgx_status) || ConfigurationNeeded(m.status)
                                      ? TcbStatus::kTDRelaunchAdvisedConfigurationNeeded
                                      : TcbStatus::kTDRelaunchAdvised);
}

void AppendUnique(std::vector<std::string>& out, const std::vector<std::string>& ids) {
  for (const std::string& id : ids) {
    if (std::find(out.begin(), out.end(), id) == out.end()) out.push_back(id);
  }
}

std::string ComponentsHex(std::span<const std::uint8_t> bytes) { return HexEncode(bytes); }

}  // namespace

std::string_view TcbStatusName(TcbStatus status) {
  for (const auto& [value, name] : kNames) {
    if (value == status) return name;
  }
  return "Unknown";
}

std::optional<TcbStatus> TcbStatusFromName(std::string_view name) {
  for (const auto& [value, text] : kNames) {
    if (text == name) return value;
  }
  return std::nullopt;
}

Result<TcbMatch> EvaluatePlatformTcb(const TcbInfo& info, const PckExtensions& pck,
                                     const QuoteView& quote) {
  const TdReportBody& body = quote.body;
  const FixedSpan<16> tee = body.tee_tcb_svn;  // TD1.5 too: TEE_TCB_SVN_2 only feeds step 7
  // 1. (4.1.2.4.9-10) a TDX TCB Info for this PCK's FMSPC and PCE-ID.
  if (info.id != kTcbInfoIdTdx || info.version != kTcbInfoVersion) {
    return VerificationFailed("tdx.tcb_info.not_tdx", "TCB Info id \"{}\" version {} is not TDX v3",
                              info.id, info.version);
  }
  if (info.fmspc != pck.fmspc) {
    return VerificationFailed("tdx.tcb_info.fmspc_mismatch",
                              "TCB Info is for FMSPC {}, the PCK certificate's is {}",
                              info.FmspcHex(), pck.FmspcHex());
  }
  if (info.pce_id != pck.pce_id) {
    return VerificationFailed("tdx.tcb_info.pceid_mismatch",
                              "TCB Info is for PCE-ID {}, the PCK certificate's is {}",
                              HexEncode(info.pce_id), HexEncode(pck.pce_id));
  }
  // 2. (4.1.2.4.11) the TDX module's signer and attributes: tdxModule, or when TEE_TCB_SVN[1]
  // (the module's major version) is non-zero, the tdxModuleIdentities entry "TDX_%02X" of it.
  const std::uint8_t major = tee[1];
  const TdxModuleIdentity* module = major > 0 ? info.FindModuleIdentity(major) : &info.tdx_module;
  if (module == nullptr) {
    return VerificationFailed("tdx.tdx_module.identity_not_found",
                              "TEE_TCB_SVN[1] = {} but TCB Info for FMSPC {} has no TDX_{:02X} "
                              "module identity",
                              major, info.FmspcHex(), major);
  }
  LUNAL_RETURN_IF_ERROR(CheckModuleIdentity(*module, body));
  // 3. (4.1.2.4.17.1-3) the first level the SGX TCB meets, and the first level both it and
  // TEE_TCB_SVN meet, in QVL's order (highest first).
  TcbMatch m{};
  std::optional<std::size_t> sgx, tdx;
  for (std::size_t i = 0; i < info.tcb_levels.size() && !tdx; ++i) {
    if (!SgxTcbMeets(pck, info.tcb_levels[i])) continue;
    if (!sgx) sgx = i;
    if (TdxTcbMeets(tee, info.tcb_levels[i])) tdx = i;
  }
  if (!sgx || !tdx) {
    return VerificationFailed(
        "tdx.tcb.not_supported",
        "{} is below every TCB level of TCB Info for FMSPC {} (tcbEvaluationDataNumber {})",
        !sgx ? fmt::format("the PCK's SGX TCB (components {}, PCESVN {})",
                           ComponentsHex(pck.sgx_tcb_components), pck.pce_svn)
             : fmt::format("TEE_TCB_SVN {}", HexEncode(tee)),
        info.FmspcHex(), info.tcb_evaluation_data_number);
  }
  m.sgx_level_index = *sgx;
  m.tdx_level_index = *tdx;
  const TdxTcbLevel& sgx_level = info.tcb_levels[*sgx];
  const TdxTcbLevel& tdx_level = info.tcb_levels[*tdx];
  m.sgx_status = sgx_level.status;
  m.tdx_level_status = tdx_level.status;
  m.tcb_date = tdx_level.tcb_date;
  AppendUnique(m.advisory_ids, sgx_level.advisory_ids);
  AppendUnique(m.advisory_ids, tdx_level.advisory_ids);
  // 4. (4.1.2.4.17.4.1) the module's own level: the first with isvsvn <= TEE_TCB_SVN[0].
  TcbStatus module_status = TcbStatus::kUpToDate;
  if (major > 0) {
    auto level = std::find_if(module->tcb_levels.begin(), module->tcb_levels.end(),
                              [&](const IsvTcbLevel& l) { return tee[0] >= l.isv_svn; });
    if (level == module->tcb_levels.end()) {
      return VerificationFailed("tdx.tdx_module.tcb_not_supported",
                                "TDX module {} SVN {} is below every level of its identity",
                                module->id, tee[0]);
    }
    module_status = level->status;
    m.tdx_module_id = module->id;
    m.tdx_module_status = level->status;
    m.module_tcb_date = level->tcb_date;
    AppendUnique(m.advisory_ids, level->advisory_ids);
  }
  // 5. (4.1.2.4.17.4.2) the TDX level's status converged with the module's.
  m.status = ConvergeWithModule(tdx_level.status, module_status);
  // 6. (4.1.2.4.17.4.3) TD1.5: would a relaunch help (applied by ConvergeTcbStatus)?
  if (body.type == BodyType::kTd15 && body.tee_tcb_svn_2 && m.status != TcbStatus::kRevoked) {
    LUNAL_ASSIGN_OR_RETURN(m.relaunch_status, RelaunchStatus(info, *body.tee_tcb_svn_2, m));
  }
  return m;
}

Result<QeMatch> EvaluateQeIdentity(const QeIdentity& identity, const QeReport& report) {
  // 1. (4.1.2.4.14) the TD QE's identity, version 2.
  if (identity.id != kQeIdentityIdTdQe || identity.version != kQeIdentityVersion) {
    return VerificationFailed("tdx.qe_identity.not_td_qe",
                              "enclave identity \"{}\" version {} is not TD_QE version 2",
                              identity.id, identity.version);
  }
  // 2. (4.1.2.9.5) MISCSELECT under the mask; QVL reads both as little-endian u32s, i.e. it
  // compares the hex string's bytes with the report's bytes in order.
  const std::uint32_t misc = report.misc_select;
  const std::array<std::uint8_t, 4> misc_bytes = {
      static_cast<std::uint8_t>(misc), static_cast<std::uint8_t>(misc >> 8),
      static_cast<std::uint8_t>(misc >> 16), static_cast<std::uint8_t>(misc >> 24)};
  for (std::size_t i = 0; i < 4; ++i) {
    if ((misc_bytes[i] & identity.miscselect_mask[i]) != identity.miscselect[i]) {
      return VerificationFailed("tdx.qe_identity.miscselect_mismatch",
                                "QE MISCSELECT {} under mask {} differs from {}",
                                HexEncode(misc_bytes), HexEncode(identity.miscselect_mask),
                                HexEncode(identity.miscselect));
    }
  }
  // 3. (4.1.2.9.6) ATTRIBUTES under the mask, byte by byte.
  for (std::size_t i = 0; i < 16; ++i) {
    if ((report.attributes[i] & identity.attributes_mask[i]) != identity.attributes[i]) {
      return VerificationFailed("tdx.qe_identity.attributes_mismatch",
                                "QE ATTRIBUTES {} under mask {} differ from {}",
                                HexEncode(report.attributes), HexEncode(identity.attributes_mask),
                                HexEncode(identity.attributes));
    }
  }
  // 4. (4.1.2.9.7) MRSIGNER, 5. (4.1.2.9.8) ISVPRODID.
  if (!std::equal(identity.mrsigner.begin(), identity.mrsigner.end(), report.mr_signer.begin())) {
    return VerificationFailed("tdx.qe_identity.mrsigner_mismatch",
                              "QE MRSIGNER {} is not Intel's TD QE signer {}",
                              HexEncode(report.mr_signer), HexEncode(identity.mrsigner));
  }
  if (report.isv_prod_id != identity.isv_prod_id) {
    return VerificationFailed("tdx.qe_identity.isvprodid_mismatch",
                              "QE ISVPRODID {} differs from {}", report.isv_prod_id,
                              identity.isv_prod_id);
  }
  // 6. (4.1.2.9.9-10) the first level (highest isvsvn first) with isvsvn <= the QE's ISVSVN.
  for (std::size_t i = 0; i < identity.tcb_levels.size(); ++i) {
    const IsvTcbLevel& level = identity.tcb_levels[i];
    if (level.isv_svn <= report.isv_svn) {
      return QeMatch{i, level.isv_svn, level.status, level.tcb_date, level.advisory_ids};
    }
  }
  return VerificationFailed("tdx.qe_identity.tcb_not_supported",
                            "QE ISVSVN {} is below every TCB level of the TD_QE identity",
                            report.isv_svn);
}

TcbVerdict ConvergeTcbStatus(const TcbMatch& platform, const QeMatch& qe) {
  TcbVerdict v{};
  v.platform_status = platform.status;
  v.qe_status = qe.status;
  v.tdx_module_status = platform.tdx_module_status;
  TcbStatus status = platform.status;
  // TD relaunch advice only when the QE is up to date (TDRelaunchCheck.cpp).
  if (platform.relaunch_status && qe.status == TcbStatus::kUpToDate) {
    status = *platform.relaunch_status;
  }
  // convergeTcbStatusWithQeTcbStatus: any QE level other than UpToDate or Revoked counts as out
  // of date (EnclaveReportVerifier.cpp 4.1.2.9.10).
  if (qe.status == TcbStatus::kRevoked) {
    status = TcbStatus::kRevoked;
  } else if (qe.status != TcbStatus::kUpToDate) {
    if (status == TcbStatus::kUpToDate || status == TcbStatus::kSWHardeningNeeded) {
      status = TcbStatus::kOutOfDate;
    } else if (status == TcbStatus::kConfigurationNeeded ||
               status == TcbStatus::kConfigurationAndSWHardeningNeeded) {
      status = TcbStatus::kOutOfDateConfigurationNeeded;
    }
  }
  v.status = status;
  v.tcb_date = std::min(platform.tcb_date, qe.tcb_date);
  if (platform.module_tcb_date) v.tcb_date = std::min(v.tcb_date, *platform.module_tcb_date);
  v.advisory_ids = platform.advisory_ids;
  AppendUnique(v.advisory_ids, qe.advisory_ids);
  return v;
}

}  // namespace lunal::attest::tdx
