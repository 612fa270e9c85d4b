// MakeStandardSource (standard_source.h): the folders, PCS and KDS composed.
#include "lunal/attest/collateral/standard_source.h"

#include <utility>

#include "lunal/attest/collateral/folder_source.h"
#include "lunal/common/log.h"

namespace lunal::attest::collateral {
namespace {

class StandardSource final : public CollateralSource {
 public:
  StandardSource(std::unique_ptr<FolderSource> folders, std::unique_ptr<PcsSource> pcs,
                 std::unique_ptr<KdsSource> kds)
      : folders_(std::move(folders)), pcs_(std::move(pcs)), kds_(std::move(kds)) {}

  Result<std::shared_ptr<const tdx::CollateralPool>> TdxPool(const TdxNeed& need,
                                                             Timestamp now) override {
    return pcs_ ? pcs_->TdxPool(need, now) : folders_->TdxPool(need, now);
  }

  Result<Bytes> SnpVcek(const SnpNeed& need, Timestamp now) override {
    auto from_folder = folders_->SnpVcek(need, now);
    if (from_folder.ok() || !kds_) return from_folder;
    return kds_->SnpVcek(need, now);
  }

  Result<std::vector<Bytes>> SnpCrls(snp::Product product, Timestamp now) override {
    LUNAL_ASSIGN_OR_RETURN(std::vector<Bytes> crls, folders_->SnpCrls(product, now));
    if (!kds_) return crls;
    auto from_kds = kds_->SnpCrls(product, now);
    if (!from_kds.ok()) {
      if (crls.empty()) return from_kds.error();
      log::Warn("collateral.kds_crl_unavailable",
                {{"product", snp::ProductName(product)}, {"error", from_kds.error().ToString()}});
      return crls;
    }
    for (Bytes& crl : *from_kds) crls.push_back(std::move(crl));
    return crls;
  }

  std::vector<DocumentInfo> Describe(Timestamp now) const override {
    // The PCS source describes the folders' Intel files itself.
    std::vector<DocumentInfo> out = pcs_ ? pcs_->Describe(now) : folders_->Describe(now);
    if (pcs_) {
      for (DocumentInfo& info : folders_->Describe(now)) {
        if (info.kind.starts_with("snp_")) out.push_back(std::move(info));
      }
    }
    if (kds_) {
      for (DocumentInfo& info : kds_->Describe(now)) out.push_back(std::move(info));
    }
    return out;
  }

 private:
  std::unique_ptr<FolderSource> folders_;
  std::unique_ptr<PcsSource> pcs_;
  std::unique_ptr<KdsSource> kds_;
};

}  // namespace

Result<std::shared_ptr<CollateralSource>> MakeStandardSource(StandardSourceOptions options) {
  LUNAL_ASSIGN_OR_RETURN(
      std::unique_ptr<FolderSource> folders,
      FolderSource::Open({.folders = options.folders, .pool_options = options.pool_options}));
  std::unique_ptr<PcsSource> pcs;
  if (options.pcs) {
    options.pcs->folders = options.folders;
    options.pcs->pool_options = options.pool_options;
    LUNAL_ASSIGN_OR_RETURN(pcs, PcsSource::Open(std::move(*options.pcs)));
  }
  std::unique_ptr<KdsSource> kds;
  if (options.kds) {
    LUNAL_ASSIGN_OR_RETURN(kds, KdsSource::Open(std::move(*options.kds)));
  }
  return std::shared_ptr<CollateralSource>(
      std::make_shared<StandardSource>(std::move(folders), std::move(pcs), std::move(kds)));
}

}  // namespace lunal::attest::collateral
