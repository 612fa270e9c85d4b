// A folder of Intel collateral (TCB Info, TD QE identity, Root CA and PCK CRLs, issuer chains),
// loaded and verified once, then queried per quote at an "as of" time.
//
//   LUNAL_ASSIGN_OR_RETURN(auto pool, CollateralPool::LoadDirectory("collateral/intel"));
//   LUNAL_ASSIGN_OR_RETURN(SelectedCollateral c, pool->Select(pck.fmspc, PckCa::kPlatform, as_of));
//   // c.tcb_info, c.qe_identity: signature-verified, valid at as_of, highest evaluation number
//
// Loading (once; see docs/formats/tdx-collateral.md "Collateral pool"):
//   1. every file is classified by its content, never its name: JSON with a top-level "tcbInfo"
//      or "enclaveIdentity" member, PEM or DER certificates, PEM or DER CRLs;
//   2. certificates are trusted only when they chain to a pinned anchor (PoolOptions::anchors,
//      Intel's production root by default; path checked at the certificate's notBefore, and the
//      window in which the whole path is valid is kept);
//   3. each TCB Info / QE identity is kept only if its signature verifies over its signed bytes
//      under a trusted "Intel SGX TCB Signing" certificate; each CRL only if its signature
//      verifies under a trusted CA (the pinned root, or a PCK Platform/Processor CA chaining to
//      it). Documents signed under Intel's test roots (bf85a53f…, 842a5bcb…) or anyone else fail
//      here and are listed in files() with the reason, never selected.
// Selection is then a lookup and a short scan: no parsing or signature checks per query. A
// document is usable at `as_of` when issueDate <= as_of < nextUpdate (CRLs: thisUpdate, nextUpdate)
// and a certificate that verified its signature is valid at as_of; among usable ones the highest
// tcbEvaluationDataNumber wins (CRLs: the latest thisUpdate). Select() also refuses collateral
// whose TCB signing certificate the selected Root CA CRL revokes.
//
// Errors from selection (stable reasons; messages say what expired when, e.g.
// "TCB Info for FMSPC 00806f050000 expired at 2025-10-29T18:04:58Z (latest tcbEvaluationDataNumber
// 17); as of 2026-11-21T00:00:00Z"):
//   kUnavailable         tdx.collateral.unavailable    nothing Intel-signed of that kind at all
//                        tdx.collateral.expired        everything of that kind expired by as_of
//                        tdx.collateral.not_yet_valid  everything of that kind issued after as_of
//   kVerificationFailed  tdx.collateral.signer_not_valid  current, but no signer valid at as_of
//                        tdx.collateral.signer_revoked    its TCB signing cert is revoked
// Loading errors: tdx.pool.read_failed (kUnavailable: the folder cannot be listed).
//
// Thread-safety: a pool is immutable after loading; share the shared_ptr freely. Returned
// pointers (TcbInfo*, QeIdentity*) live as long as the pool.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lunal/attest/tdx/collateral.h"
#include "lunal/attest/tdx/pck_extensions.h"
#include "lunal/common/bytes.h"
#include "lunal/common/result.h"
#include "lunal/common/time.h"
#include "lunal/crypto/chain.h"
#include "lunal/crypto/x509.h"

namespace lunal::attest::tdx {

// Intel SGX Root CA (production), pinned by sha256 of its DER:
// 44a0196b2b99f889b8e149e95b807a350e7424964399e885a7cbb8ccfab674d3.
crypto::TrustAnchor IntelSgxRootCaAnchor();

enum class CollateralKind : std::uint8_t { kTcbInfo, kQeIdentity, kCrl, kCertificates, kUnknown };
std::string_view CollateralKindName(CollateralKind kind);  // "tcb_info", "qe_identity", ...

// What loading did with one file: OK and in use, or the reason it is ignored.
struct PoolFileReport {
  std::string name;
  CollateralKind kind;
  Status status;
  std::string detail;  // "TCB Info for FMSPC 50806f000000, tcbEvaluationDataNumber 18, valid …"
  // For the TCB Infos, QE identities and CRLs the pool parsed: what the document is for
  // ("fmspc=50806f000000", "td_qe", "root_ca", "ca=platform", "ca=processor"; a CRL's role is
  // known once a trusted CA verified it, so it is empty for untrusted CRLs) and its validity
  // window (issueDate / thisUpdate, nextUpdate). Empty for certificates and unparsed files.
  std::string key = {};
  std::optional<Timestamp> issued = std::nullopt;
  std::optional<Timestamp> next_update = std::nullopt;
};

struct PoolOptions {
  std::vector<crypto::TrustAnchor> anchors = {IntelSgxRootCaAnchor()};
  // Certificates known out of band (e.g. the pinned root itself), used like the pool's PEM files.
  std::vector<crypto::Certificate> extra_certificates = {};
  // The subject common name a collateral signing certificate must have.
  std::string tcb_signer_common_name = "Intel SGX TCB Signing";
  std::size_t max_file_bytes = std::size_t{1} << 20;  // larger files are ignored
};

struct PoolInput {
  std::string name;
  Bytes bytes;
  Status read_status = Status::Ok();  // why `bytes` could not be read (reported, not parsed)
};

// The collateral for one quote at one time.
struct SelectedCollateral {
  const TcbInfo* tcb_info;  // into the pool
  const QeIdentity* qe_identity;
  crypto::Crl root_ca_crl;
  crypto::Crl pck_crl;
  Timestamp valid_until;  // the earliest nextUpdate of the four
};

class CollateralPool {
 public:
  // Loads the regular files directly in `dir` (in name order). Fails only if the folder cannot
  // be read; unusable files are reported in files().
  static Result<std::shared_ptr<const CollateralPool>> LoadDirectory(
      const std::filesystem::path& dir, const PoolOptions& options = {});
  static std::shared_ptr<const CollateralPool> Build(std::vector<PoolInput> files,
                                                     const PoolOptions& options = {});

  // The usable TCB Info for this FMSPC (id "TDX") with the highest tcbEvaluationDataNumber.
  Result<const TcbInfo*> SelectTcbInfo(std::span<const std::uint8_t, 6> fmspc,
                                       Timestamp as_of) const;
  // The usable TD_QE identity with the highest tcbEvaluationDataNumber.
  Result<const QeIdentity*> SelectQeIdentity(Timestamp as_of) const;
  // The usable Intel SGX Root CA CRL, and PCK CRL of the given CA, with the latest thisUpdate.
  Result<crypto::Crl> SelectRootCaCrl(Timestamp as_of) const;
  Result<crypto::Crl> SelectPckCrl(PckCa ca, Timestamp as_of) const;
  // All four, in that order (the first failure is returned), and the signing-certificate
  // revocation check against the selected Root CA CRL.
  Result<SelectedCollateral> Select(std::span<const std::uint8_t, 6> fmspc, PckCa ca,
                                    Timestamp as_of) const;

  const std::vector<PoolFileReport>& files() const;

  struct State;  // private; defined in collateral_pool_state.h
  explicit CollateralPool(std::unique_ptr<const State> state);
  ~CollateralPool();
  CollateralPool(const CollateralPool&) = delete;
  CollateralPool& operator=(const CollateralPool&) = delete;

 private:
  std::unique_ptr<const State> state_;
};

}  // namespace lunal::attest::tdx
