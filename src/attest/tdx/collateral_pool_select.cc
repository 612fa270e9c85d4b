// Selecting collateral from a loaded pool (see collateral_pool.h): a hash lookup and a scan of a
// few pre-sorted candidates, no parsing and no signature checks.
#include <algorithm>

#include "collateral_pool_state.h"
#include "lunal/attest/tdx/collateral_pool.h"
#include "lunal/common/encoding.h"

namespace lunal::attest::tdx {
namespace {

using pool_internal::Candidate;
using pool_internal::CandidateList;
using pool_internal::Signer;

std::string IgnoredNote(std::size_t ignored) {
  if (ignored == 0) return "";
  return fmt::format(" ({} such document{} ignored: not signed under a pinned root)", ignored,
                     ignored == 1 ? " was" : "s were");
}

// The best usable candidate at `as_of`, or an error saying plainly why there is none.
Result<const Candidate*> Choose(const CandidateList& list, const std::vector<Signer>& signers,
                                Timestamp as_of) {
  if (list.candidates.empty()) {
    return Unavailable("tdx.collateral.unavailable",
                       "no {} signed under a pinned root in the "
                       "collateral pool{}",
                       list.what, IgnoredNote(list.ignored));
  }
  const Candidate* unsigned_current = nullptr;
  const Candidate* latest_expired = nullptr;
  const Candidate* earliest_future = nullptr;
  for (const Candidate& c : list.candidates) {  // best first
    if (c.from <= as_of && as_of < c.to) {
      for (std::size_t s : c.signers) {
        if (signers[s].ValidAt(as_of)) return &c;
      }
      if (unsigned_current == nullptr) unsigned_current = &c;
    } else if (c.to <= as_of) {
      if (latest_expired == nullptr || c.to > latest_expired->to) latest_expired = &c;
    } else if (earliest_future == nullptr || c.from < earliest_future->from) {
      earliest_future = &c;
    }
  }
  const std::string when = FormatRfc3339(as_of);
  if (unsigned_current != nullptr) {
    return VerificationFailed("tdx.collateral.signer_not_valid",
                              "{} ({}) is current as of {}, but no certificate that signed it is "
                              "valid then",
                              list.what, unsigned_current->rank_note, when);
  }
  if (latest_expired != nullptr) {
    std::string next =
        earliest_future == nullptr
            ? ""
            : fmt::format("; the next one is valid from {}", FormatRfc3339(earliest_future->from));
    return Unavailable("tdx.collateral.expired", "{} expired at {} (latest {}); as of {}{}",
                       list.what, FormatRfc3339(latest_expired->to), latest_expired->rank_note,
                       when, next);
  }
  return Unavailable("tdx.collateral.not_yet_valid", "{} is not valid before {} ({}); as of {}",
                     list.what, FormatRfc3339(earliest_future->from), earliest_future->rank_note,
                     when);
}

Result<const Candidate*> ChooseTcbInfo(const CollateralPool::State& state,
                                       std::span<const std::uint8_t, 6> fmspc, Timestamp as_of) {
  std::string key = HexEncode(fmspc);
  auto it = state.tcb_by_fmspc.find(key);
  if (it == state.tcb_by_fmspc.end()) {
    return Unavailable("tdx.collateral.unavailable",
                       "no TCB Info for FMSPC {} in the collateral pool", key);
  }
  return Choose(it->second, state.signers, as_of);
}

const CandidateList& PckCrls(const CollateralPool::State& state, PckCa ca) {
  return ca == PckCa::kPlatform ? state.pck_platform_crl : state.pck_processor_crl;
}

// Select(): a signer of `doc` that is valid at as_of and not revoked by the Root CA CRL.
bool SignerNotRevoked(const CollateralPool::State& state, const Candidate& doc,
                      const Candidate& root_crl, Timestamp as_of) {
  const std::vector<bool>& revoked = state.revoked.at(root_crl.index);
  for (std::size_t s : doc.signers) {
    if (state.signers[s].ValidAt(as_of) && !revoked[s]) return true;
  }
  return false;
}

Status SignerRevoked(std::string_view what, const Candidate& doc, const Candidate& root_crl) {
  return VerificationFailed("tdx.collateral.signer_revoked",
                            "the certificate that signed the {} ({}) is revoked by the Intel SGX "
                            "Root CA CRL ({})",
                            what, doc.rank_note, root_crl.rank_note);
}

}  // namespace

Result<const TcbInfo*> CollateralPool::SelectTcbInfo(std::span<const std::uint8_t, 6> fmspc,
                                                     Timestamp as_of) const {
  LUNAL_ASSIGN_OR_RETURN(const Candidate* c, ChooseTcbInfo(*state_, fmspc, as_of));
  return &state_->tcb_infos[c->index];
}

Result<const QeIdentity*> CollateralPool::SelectQeIdentity(Timestamp as_of) const {
  LUNAL_ASSIGN_OR_RETURN(const Candidate* c, Choose(state_->qe_identity, state_->signers, as_of));
  return &state_->qe_identities[c->index];
}

Result<crypto::Crl> CollateralPool::SelectRootCaCrl(Timestamp as_of) const {
  LUNAL_ASSIGN_OR_RETURN(const Candidate* c, Choose(state_->root_ca_crl, state_->signers, as_of));
  return state_->crls[c->index];
}

Result<crypto::Crl> CollateralPool::SelectPckCrl(PckCa ca, Timestamp as_of) const {
  LUNAL_ASSIGN_OR_RETURN(const Candidate* c, Choose(PckCrls(*state_, ca), state_->signers, as_of));
  return state_->crls[c->index];
}

Result<SelectedCollateral> CollateralPool::Select(std::span<const std::uint8_t, 6> fmspc, PckCa ca,
                                                  Timestamp as_of) const {
  const State& s = *state_;
  // 1. TCB Info, 2. TD QE identity, 3. Root CA CRL, 4. PCK CRL of the PCK's issuing CA.
  LUNAL_ASSIGN_OR_RETURN(const Candidate* tcb, ChooseTcbInfo(s, fmspc, as_of));
  LUNAL_ASSIGN_OR_RETURN(const Candidate* qe, Choose(s.qe_identity, s.signers, as_of));
  LUNAL_ASSIGN_OR_RETURN(const Candidate* root, Choose(s.root_ca_crl, s.signers, as_of));
  LUNAL_ASSIGN_OR_RETURN(const Candidate* pck, Choose(PckCrls(s, ca), s.signers, as_of));
  // 5. The documents' TCB signing certificates are not revoked by that Root CA CRL.
  const TcbInfo& tcb_info = s.tcb_infos[tcb->index];
  if (!SignerNotRevoked(s, *tcb, *root, as_of)) {
    return SignerRevoked(fmt::format("TCB Info for FMSPC {}", tcb_info.FmspcHex()), *tcb, *root);
  }
  if (!SignerNotRevoked(s, *qe, *root, as_of)) return SignerRevoked("TD QE identity", *qe, *root);
  SelectedCollateral out{&tcb_info, &s.qe_identities[qe->index], s.crls[root->index],
                         s.crls[pck->index], std::min({tcb->to, qe->to, root->to, pck->to})};
  return out;
}

}  // namespace lunal::attest::tdx
