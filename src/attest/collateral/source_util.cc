#include "source_util.h"

#include <algorithm>
#include <system_error>

#include "lunal/attest/snp/signatures.h"
#include "lunal/common/encoding.h"
#include "lunal/common/files.h"

namespace lunal::attest::collateral::internal {

namespace fs = std::filesystem;

std::string PoolDocumentKind(const tdx::PoolFileReport& report) {
  switch (report.kind) {
    case tdx::CollateralKind::kTcbInfo:
      return "tdx_tcb_info";
    case tdx::CollateralKind::kQeIdentity:
      return "tdx_qe_identity";
    case tdx::CollateralKind::kCrl:
      if (report.key == "root_ca") return "root_ca_crl";
      if (report.key.starts_with("ca=")) return "pck_crl";
      return "crl";
    case tdx::CollateralKind::kCertificates:
      return "certificates";
    case tdx::CollateralKind::kUnknown:
      return "unknown";
  }
  return "unknown";
}

bool InDate(const std::optional<Timestamp>& issued, const std::optional<Timestamp>& next_update,
            Timestamp now) {
  return issued && next_update && *issued <= now && now < *next_update;
}

DocumentInfo DescribePoolFile(const tdx::PoolFileReport& report, std::string source,
                              Timestamp now) {
  DocumentInfo info;
  info.kind = PoolDocumentKind(report);
  info.key = report.key;
  info.source = std::move(source);
  info.issued = report.issued;
  info.next_update = report.next_update;
  const bool document = report.kind == tdx::CollateralKind::kTcbInfo ||
                        report.kind == tdx::CollateralKind::kQeIdentity ||
                        report.kind == tdx::CollateralKind::kCrl;
  info.valid = document && report.status.ok() && InDate(report.issued, report.next_update, now);
  info.detail = report.status.ok()
                    ? report.detail
                    : fmt::format("{}{}not used: {}", report.detail,
                                  report.detail.empty() ? "" : "; ", report.status.ToString());
  return info;
}

Result<std::vector<tdx::PoolInput>> ReadFolder(const fs::path& folder, std::size_t max_bytes) {
  std::error_code ec;
  std::vector<fs::path> paths;
  for (fs::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_regular_file(ec)) paths.push_back(it->path());
  }
  if (ec) {
    return Unavailable("collateral.folder.unreadable", "cannot list {}: {}", folder.string(),
                       ec.message());
  }
  std::sort(paths.begin(), paths.end());
  std::vector<tdx::PoolInput> inputs;
  for (const fs::path& path : paths) {
    tdx::PoolInput input{path.string(), {}, Status::Ok()};
    auto text = ReadFile(path, {.max_bytes = max_bytes});
    if (text.ok()) {
      input.bytes = ToBytes(*text);
    } else {
      input.read_status = text.error();
    }
    inputs.push_back(std::move(input));
  }
  return inputs;
}

Bytes HwIdOf(snp::Product product, ByteSpan chip_id) {
  const std::size_t n = product == snp::Product::kTurin ? 8 : 64;
  return Bytes(chip_id.begin(),
               chip_id.begin() + static_cast<std::ptrdiff_t>(std::min(n, chip_id.size())));
}

std::string TcbKey(snp::Product product, const snp::TcbParts& tcb) {
  std::string fmc = product == snp::Product::kTurin
                        ? fmt::format("fmc{}-", static_cast<unsigned>(tcb.fmc.value_or(0)))
                        : "";
  return fmt::format("{}bl{}-tee{}-snp{}-ucode{}", fmc, static_cast<unsigned>(tcb.boot_loader),
                     static_cast<unsigned>(tcb.tee), static_cast<unsigned>(tcb.snp),
                     static_cast<unsigned>(tcb.microcode));
}

std::string VcekKey(const SnpNeed& need) {
  return fmt::format("{}/{}/{}", snp::ProductName(need.product),
                     HexEncode(HwIdOf(need.product, need.chip_id)),
                     TcbKey(need.product, need.reported_tcb));
}

Status CheckCertificateForNeed(const crypto::Certificate& cert, const SnpNeed& need,
                               const snp::AmdCertificates& amd) {
  const std::string_view what = need.vlek ? "VLEK" : "VCEK";
  auto bad = [&](std::string detail) {
    return Unavailable("collateral.bad_response", "the {} is not the one asked for ({}): {}", what,
                       VcekKey(need), detail);
  };
  const crypto::Certificate& issuer = need.vlek ? amd.asvk : amd.ask;
  if (Status s = cert.VerifySignedBy(issuer); !s.ok()) {
    return bad(fmt::format("not issued by {} ({})", issuer.SubjectCommonName(), s.message()));
  }
  auto ext = snp::ParseVcekExtensions(cert);
  if (!ext.ok()) return bad(ext.error().message());
  const snp::TcbParts& tcb = need.reported_tcb;
  const bool fmc_ok = need.product != snp::Product::kTurin || ext->fmc_spl == tcb.fmc;
  if (ext->bl_spl != tcb.boot_loader || ext->tee_spl != tcb.tee || ext->snp_spl != tcb.snp ||
      ext->ucode_spl != tcb.microcode || !fmc_ok) {
    return bad(fmt::format("its TCB is bl{}-tee{}-snp{}-ucode{}", ext->bl_spl, ext->tee_spl,
                           ext->snp_spl, ext->ucode_spl));
  }
  if (need.vlek) {
    if (ext->hw_id) return bad("a VLEK with a hwID");
    return Status::Ok();
  }
  if (!ext->hw_id || *ext->hw_id != HwIdOf(need.product, need.chip_id)) {
    return bad(fmt::format("its hwID is {}", ext->hw_id ? HexEncode(*ext->hw_id) : "absent"));
  }
  return Status::Ok();
}

}  // namespace lunal::attest::collateral::internal
