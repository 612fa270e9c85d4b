// The immutable state behind a CollateralPool: what loading (collateral_pool.cc) verified and
// indexed, in the form selection (collateral_pool_select.cc) scans. Private to attest/tdx.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "lunal/attest/tdx/collateral_pool.h"
#include "lunal/crypto/x509.h"

namespace lunal::attest::tdx {

namespace pool_internal {

// A certificate that chains to a pinned anchor, with the window in which its whole path is valid.
struct Signer {
  crypto::Certificate cert;
  Timestamp not_before;
  Timestamp not_after;
  bool ValidAt(Timestamp t) const { return not_before <= t && t <= not_after; }
};

// One document as selection sees it: its validity window, its rank (higher is preferred), which
// trusted signers verified it, and how to name it in messages.
struct Candidate {
  std::size_t index;  // into the typed vector (tcb_infos, qe_identities, crls)
  Timestamp from;     // issueDate / thisUpdate
  Timestamp to;       // nextUpdate
  std::uint64_t rank;
  std::vector<std::size_t> signers;  // into State::signers
  std::string rank_note;             // "tcbEvaluationDataNumber 18", "thisUpdate 2026-…Z"
};

// A list of candidates of one kind and key, best first, with what to call them.
struct CandidateList {
  std::string what;  // "TCB Info for FMSPC 50806f000000", "TD QE identity", "Root CA CRL"
  std::vector<Candidate> candidates;
  std::size_t ignored = 0;  // documents of this kind and key refused at load (untrusted, …)
};

enum class CrlRole : std::uint8_t { kRootCa, kPckPlatform, kPckProcessor };

}  // namespace pool_internal

struct CollateralPool::State {
  std::vector<PoolFileReport> files;
  std::vector<pool_internal::Signer> signers;
  std::vector<TcbInfo> tcb_infos;
  std::vector<QeIdentity> qe_identities;
  std::vector<crypto::Crl> crls;
  // revoked[c][s]: Root CA CRL crls[c] lists signers[s] (computed for Root CA CRLs only).
  std::unordered_map<std::size_t, std::vector<bool>> revoked;

  std::unordered_map<std::string, pool_internal::CandidateList> tcb_by_fmspc;  // lowercase hex
  pool_internal::CandidateList qe_identity{"TD QE identity", {}, 0};
  pool_internal::CandidateList root_ca_crl{"Intel SGX Root CA CRL", {}, 0};
  pool_internal::CandidateList pck_platform_crl{"Intel SGX PCK Platform CA CRL", {}, 0};
  pool_internal::CandidateList pck_processor_crl{"Intel SGX PCK Processor CA CRL", {}, 0};
};

}  // namespace lunal::attest::tdx
