// ClaimsFrom: the two verifiers' results as neutral Claims.
#include "lunal/attest/policy/claims.h"

#include <algorithm>

#include "lunal/attest/snp/verify.h"
#include "lunal/attest/tdx/verify.h"
#include "lunal/common/encoding.h"

namespace lunal::attest::policy {
namespace {

// The verifier's own record says whether the evidence was simulated ("tee": {"simulated": …}), so
// the policy reads the same value the record shows.
template <typename Verification>
bool SimulatedOf(const Verification& v) {
  const Json record = v.ToJson();
  const auto tee = record.find("tee");
  if (tee == record.end()) return false;
  const auto simulated = tee->find("simulated");
  return simulated != tee->end() && simulated->is_boolean() && simulated->template get<bool>();
}

}  // namespace

Claims ClaimsFrom(const tdx::TdxVerification& v,
                  const std::optional<std::string>& event_log_build_hash) {
  Claims c;
  c.tee = TeeType::kTdx;
  c.simulated = SimulatedOf(v);
  c.debug = v.debug;
  c.measurements = {
      {"mr_td", v.mr_td},   {"rtmr0", v.rtmr[0]}, {"rtmr1", v.rtmr[1]},
      {"rtmr2", v.rtmr[2]}, {"rtmr3", v.rtmr[3]}, {"mr_config_id", v.mr_config_id},
  };
  c.build_hash = event_log_build_hash;
  c.tcb_status = std::string(tdx::TcbStatusName(v.tcb.status));
  c.advisory_ids = v.tcb.advisory_ids;
  c.tdx_tcb = TdxTcbClaims{
      .tee_tcb_svn = v.tee_tcb_svn, .pce_svn = v.pck.pce_svn, .qe_isv_svn = v.qe_isv_svn};
  c.report_data = v.report_data;
  return c;
}

Claims ClaimsFrom(const snp::SnpVerification& v) {
  Claims c;
  c.tee = TeeType::kSnp;
  c.simulated = SimulatedOf(v);
  c.debug = v.debug;
  c.measurements = {{"measurement", v.measurement}, {"host_data", v.host_data}};
  const bool host_data_set =
      std::any_of(v.host_data.begin(), v.host_data.end(), [](std::uint8_t b) { return b != 0; });
  if (host_data_set) c.build_hash = "sha256:" + HexEncode(v.host_data);
  c.snp_tcb = SnpTcbClaims{.fmc = v.reported_tcb.fmc,
                           .boot_loader = v.reported_tcb.boot_loader,
                           .tee = v.reported_tcb.tee,
                           .snp = v.reported_tcb.snp,
                           .microcode = v.reported_tcb.microcode};
  c.vmpl = v.vmpl;
  c.guest_svn = v.guest_svn;
  c.report_data = v.report_data;
  return c;
}

}  // namespace lunal::attest::policy
