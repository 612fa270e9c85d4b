// FolderSource (folder_source.h): Intel files into one pool by content, AMD files by KDS name.
#include "lunal/attest/collateral/folder_source.h"

#include <algorithm>
#include <cctype>
#include <optional>
#include <utility>

#include "lunal/attest/snp/signatures.h"
#include "lunal/common/encoding.h"
#include "source_util.h"

namespace lunal::attest::collateral {

namespace fs = std::filesystem;
using internal::InDate;

namespace {

// An AMD file recognised by its KDS / snpguest name.
struct SnpFile {
  std::string path;
  std::string kind;                     // "snp_vcek", "snp_vlek", "snp_crl", "ignored"
  std::optional<snp::Product> product;  // a CRL named for one product; nullopt: every product
  Bytes bytes;
  std::optional<crypto::Certificate> cert;
  std::optional<crypto::Crl> crl;
  Status status;  // why it is not used
};

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// The kind of an AMD file from its name, or nullopt for anything else (an Intel file).
std::optional<SnpFile> ClassifySnpName(const fs::path& path) {
  const std::string name = Lower(path.filename().string());
  const std::string stem = Lower(path.stem().string());
  const std::string ext = Lower(path.extension().string());
  SnpFile file;
  file.path = path.string();
  if (name == "vcek.der" || name == "vcek.pem") {
    file.kind = "snp_vcek";
  } else if (name == "vlek.der" || name == "vlek.pem") {
    file.kind = "snp_vlek";
  } else if (name == "crl.der" || name == "crl.pem") {
    file.kind = "snp_crl";
  } else if (ext == ".crl" && (stem == "milan" || stem == "genoa" || stem == "turin")) {
    file.kind = "snp_crl";
    file.product = stem == "milan"   ? snp::Product::kMilan
                   : stem == "genoa" ? snp::Product::kGenoa
                                     : snp::Product::kTurin;
  } else if (stem == "ark" || stem == "ask" || stem == "asvk" || stem == "cert_chain") {
    file.kind = "ignored";
  } else {
    return std::nullopt;
  }
  return file;
}

void ParseSnpFile(SnpFile& file) {
  if (file.kind == "snp_vcek" || file.kind == "snp_vlek") {
    std::string_view text = AsStringView(file.bytes);
    Result<crypto::Certificate> cert = Status();
    if (text.find("-----BEGIN") != std::string_view::npos) {
      auto chain = crypto::ParsePemChain(text);
      cert = chain.ok() ? Result<crypto::Certificate>(chain->front()) : chain.error();
    } else {
      cert = crypto::Certificate::FromDer(file.bytes);
    }
    if (cert.ok()) {
      file.cert = *cert;
    } else {
      file.status = cert.error();
    }
  } else if (file.kind == "snp_crl") {
    auto crl = crypto::Crl::FromDerOrPem(file.bytes);
    if (crl.ok()) {
      file.crl = *crl;
    } else {
      file.status = crl.error();
    }
  }
}

DocumentInfo DescribeSnpFile(const SnpFile& file, Timestamp now) {
  DocumentInfo info;
  info.kind = file.kind == "ignored" ? "certificates" : file.kind;
  info.source = "folder:" + file.path;
  if (file.kind == "ignored") {
    info.detail = "ignored: AMD's ARK, ASK and ASVK are embedded in the SNP verifier";
    return info;
  }
  if (!file.status.ok()) {
    info.detail = "not used: " + file.status.ToString();
    return info;
  }
  if (file.cert) {
    info.issued = FromSeconds(file.cert->NotBefore());
    info.next_update = FromSeconds(file.cert->NotAfter());
    auto product = snp::ProductFromName(file.cert->IssuerName());
    auto ext = snp::ParseVcekExtensions(*file.cert);
    if (product && ext.ok()) {
      snp::TcbParts tcb{.fmc = ext->fmc_spl,
                        .boot_loader = ext->bl_spl,
                        .tee = ext->tee_spl,
                        .snp = ext->snp_spl,
                        .microcode = ext->ucode_spl,
                        .reserved_zero = true};
      info.key =
          fmt::format("{}/{}/{}", snp::ProductName(*product),
                      ext->hw_id ? HexEncode(*ext->hw_id) : "-", internal::TcbKey(*product, tcb));
    }
    info.detail = fmt::format("\"{}\" issued by \"{}\"", file.cert->SubjectCommonName(),
                              file.cert->IssuerName());
  } else if (file.crl) {
    info.key = file.product ? std::string(snp::ProductName(*file.product)) : "all";
    info.issued = FromSeconds(file.crl->ThisUpdate());
    if (auto next = file.crl->NextUpdate()) info.next_update = FromSeconds(*next);
    info.detail = fmt::format("CRL issued by \"{}\"", file.crl->IssuerName());
  }
  info.valid = InDate(info.issued, info.next_update, now);
  return info;
}

}  // namespace

struct FolderSource::State {
  std::vector<tdx::PoolInput> inputs;
  std::shared_ptr<const tdx::CollateralPool> pool;
  std::vector<SnpFile> snp_files;
};

FolderSource::FolderSource(std::unique_ptr<const State> state) : state_(std::move(state)) {}
FolderSource::~FolderSource() = default;

Result<std::unique_ptr<FolderSource>> FolderSource::Open(const FolderSourceOptions& options) {
  auto state = std::make_unique<State>();
  for (const fs::path& folder : options.folders) {
    LUNAL_ASSIGN_OR_RETURN(std::vector<tdx::PoolInput> inputs,
                           internal::ReadFolder(folder, options.pool_options.max_file_bytes));
    for (tdx::PoolInput& input : inputs) {
      std::optional<SnpFile> snp = ClassifySnpName(input.name);
      if (!snp) {
        state->inputs.push_back(std::move(input));
        continue;
      }
      snp->status = input.read_status;
      snp->bytes = std::move(input.bytes);
      if (snp->status.ok()) ParseSnpFile(*snp);
      state->snp_files.push_back(std::move(*snp));
    }
  }
  state->pool = tdx::CollateralPool::Build(state->inputs, options.pool_options);
  return std::unique_ptr<FolderSource>(new FolderSource(std::move(state)));
}

const std::shared_ptr<const tdx::CollateralPool>& FolderSource::pool() const {
  return state_->pool;
}
const std::vector<tdx::PoolInput>& FolderSource::pool_inputs() const { return state_->inputs; }

Result<std::shared_ptr<const tdx::CollateralPool>> FolderSource::TdxPool(const TdxNeed&,
                                                                         Timestamp) {
  return state_->pool;
}

Result<Bytes> FolderSource::SnpVcek(const SnpNeed& need, Timestamp) {
  const std::string_view kind = need.vlek ? "snp_vlek" : "snp_vcek";
  LUNAL_ASSIGN_OR_RETURN(snp::AmdCertificates roots, snp::AmdCertificatesFor(need.product));
  for (const SnpFile& file : state_->snp_files) {
    if (file.kind != kind || !file.cert) continue;
    if (internal::CheckCertificateForNeed(*file.cert, need, roots).ok()) {
      const ByteSpan der = file.cert->Der();
      return Bytes(der.begin(), der.end());
    }
  }
  return Unavailable("collateral.unavailable", "no {} for {} in the collateral folders",
                     need.vlek ? "VLEK" : "VCEK", internal::VcekKey(need));
}

Result<std::vector<Bytes>> FolderSource::SnpCrls(snp::Product product, Timestamp) {
  std::vector<Bytes> out;
  for (const SnpFile& file : state_->snp_files) {
    if (file.kind == "snp_crl" && file.crl && (!file.product || *file.product == product)) {
      const ByteSpan der = file.crl->Der();
      out.emplace_back(der.begin(), der.end());
    }
  }
  return out;
}

std::vector<DocumentInfo> FolderSource::Describe(Timestamp now) const {
  std::vector<DocumentInfo> out;
  const auto& reports = state_->pool->files();
  for (const tdx::PoolFileReport& report : reports) {
    out.push_back(internal::DescribePoolFile(report, "folder:" + report.name, now));
  }
  for (const SnpFile& file : state_->snp_files) out.push_back(DescribeSnpFile(file, now));
  return out;
}

}  // namespace lunal::attest::collateral
