// FolderSource: collateral from folders on disk, read once at Open. No network.
//
// Intel (TDX): every regular file directly in each folder goes into one tdx::CollateralPool
// (files are classified by content, never by name: tdx/collateral_pool.h); TdxPool returns that
// pool whatever the need (the verifier selects, and reports what is missing or expired).
//
// AMD (SNP): files named as AMD KDS and snpguest name them, case-insensitively:
//   vcek.der, vcek.pem      a VCEK (DER, or the first PEM certificate)
//   vlek.der, vlek.pem      a VLEK
//   crl.der, crl.pem        an AMD CRL, offered for every product (the verifier ignores CRLs of
//                           other products' certificates)
//   <product>.crl           an AMD CRL for that product only: milan.crl, genoa.crl, turin.crl
//                           (DER or PEM)
//   ark.*, ask.*, asvk.*, cert_chain.pem: ignored, AMD's roots are embedded in the SNP verifier
// SnpVcek returns the folder certificate whose AMD extensions match the need (VCEK: hwID equals
// CHIP_ID, its first 8 bytes for Turin; every SPL equals REPORTED_TCB; issued by the product's
// ASK. VLEK: the SPLs and the product's ASVK), else kUnavailable collateral.unavailable. Nothing
// is checked against time here: the verifier does. A KDS-named file that does not parse is
// listed by Describe with the reason and never used.
//
// Describe lists every file: pool documents with kind, key, issueDate/thisUpdate, nextUpdate and
// whether they are usable at `now` (signed under the pinned root and in date); certificates and
// unknown files with what the pool made of them; SNP files with their validity.
//
// Thread-safety: immutable after Open; every method may be called from many threads.
#pragma once

#include <filesystem>
#include <memory>
#include <vector>

#include "lunal/attest/collateral/source.h"
#include "lunal/attest/tdx/collateral_pool.h"

namespace lunal::attest::collateral {

struct FolderSourceOptions {
  std::vector<std::filesystem::path> folders = {};
  tdx::PoolOptions pool_options = {};  // anchors: Intel's production root unless told otherwise
};

class FolderSource final : public CollateralSource {
 public:
  // Reads every folder once. Errors: collateral.folder.unreadable (kUnavailable) when a folder
  // cannot be listed (a missing folder is a configuration mistake, not an empty pool).
  static Result<std::unique_ptr<FolderSource>> Open(const FolderSourceOptions& options);
  ~FolderSource() override;

  Result<std::shared_ptr<const tdx::CollateralPool>> TdxPool(const TdxNeed& need,
                                                             Timestamp now) override;
  Result<Bytes> SnpVcek(const SnpNeed& need, Timestamp now) override;
  Result<std::vector<Bytes>> SnpCrls(snp::Product product, Timestamp now) override;
  std::vector<DocumentInfo> Describe(Timestamp now) const override;

  // The pool, and the inputs it was built from (PcsSource adds them to its own pool).
  const std::shared_ptr<const tdx::CollateralPool>& pool() const;
  const std::vector<tdx::PoolInput>& pool_inputs() const;

  struct State;  // private

 private:
  explicit FolderSource(std::unique_ptr<const State> state);
  std::unique_ptr<const State> state_;
};

}  // namespace lunal::attest::collateral
