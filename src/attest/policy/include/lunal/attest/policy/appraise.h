// Appraise: judges verified claims against a policy and reports EVERY violation, not just the
// first, so that one run tells an operator everything that would have to change.
//
//   Appraisal a = Appraise(policy, claims);
//   if (!a.passed()) for (const Violation& v : a.violations) log(v.reason, v.message);
//   record["policy"] = a.ToJson();   // {"result": "fail", "violations": [{…}]}
//
// Rules, in the order violations are reported (docs/formats/policy.md "Appraisal"):
//   policy.tee_not_allowed          the TEE type is not in tee_types
//   policy.simulated_forbidden      simulated evidence and allow_simulated is false
//   policy.debug_forbidden          TDX TD_ATTRIBUTES.DEBUG / SNP POLICY.DEBUG, allow_debug false
//   policy.measurement_missing      a measurement the policy lists is absent from the claims
//   policy.measurement_mismatch     a measurement is not one of its reference values
//   policy.build_hash_missing       build_hashes is set and the evidence carries no build hash
//   policy.build_hash_mismatch      the build hash is not one of build_hashes
//   policy.tcb_status_not_accepted  the TCB status is not accepted (OutOfDate statuses: unless
//                                   every advisory id is in accepted_advisories)
//   policy.advisory_not_accepted    with tcb_status_not_accepted, when accepted_advisories is
//                                   not empty: one per advisory id of an OutOfDate result that
//                                   it does not name
//   policy.tcb_below_minimum        TEE_TCB_SVN (per byte), PCESVN, QE ISVSVN, or an SNP SPL
//   policy.vmpl_not_allowed         the SNP report's VMPL is above max_vmpl
//   policy.guest_svn_below_minimum  the SNP GUEST_SVN is below min_guest_svn
//   policy.report_data_unbound      mode "nonce" and the caller gave no expected REPORT_DATA
//   policy.report_data_mismatch     REPORT_DATA differs from what the policy or nonce requires
// Rules for one TEE (tdx.*, snp.*) apply only to claims of that TEE.
//
// Thread-safety: pure functions of their arguments.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lunal/attest/policy/claims.h"
#include "lunal/attest/policy/policy.h"
#include "lunal/common/bytes.h"
#include "lunal/common/json.h"

namespace lunal::attest::policy {

struct Violation {
  std::string reason;  // stable: "policy.debug_forbidden"
  std::string field;   // the policy field that decided: "allow_debug", "tdx.reference_values.mr_td"
  Json expected;       // what the policy wanted (a value or a list of values)
  Json actual;         // what the evidence says
  std::string message;

  Json ToJson() const;  // {"reason", "field", "expected", "actual", "message"}
};

struct Appraisal {
  std::vector<Violation> violations;

  bool passed() const { return violations.empty(); }
  // True if some violation has this reason.
  bool Has(std::string_view reason) const;
  // The verification record's "policy" value: {"result": "pass"|"fail", "violations": [...]}.
  Json ToJson() const;
};

struct AppraiseOptions {
  // ReportDataRule::Mode::kNonce: the 64 bytes REPORT_DATA must be, derived by the caller from
  // the request's nonce.
  std::optional<Bytes> nonce_report_data = std::nullopt;
};

Appraisal Appraise(const Policy& policy, const Claims& claims, const AppraiseOptions& options = {});

}  // namespace lunal::attest::policy
