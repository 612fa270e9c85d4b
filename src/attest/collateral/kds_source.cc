// KdsSource (kds_source.h).
#include "lunal/attest/collateral/kds_source.h"

#include <algorithm>
#include <map>
#include <mutex>
#include <utility>

#include "document_store.h"
#include "fetcher.h"
#include "lunal/attest/snp/signatures.h"
#include "lunal/common/encoding.h"
#include "lunal/common/log.h"
#include "single_flight.h"
#include "source_util.h"

namespace lunal::attest::collateral {

using internal::StoredDocument;

namespace {

struct Attempt {
  Timestamp at;
  Status status;
};

// [KDS] "VCEK certificate": the TCB query parameters, fmcSPL first for Turin.
std::string TcbQuery(snp::Product product, const snp::TcbParts& tcb) {
  std::string fmc = product == snp::Product::kTurin
                        ? fmt::format("fmcSPL={}&", static_cast<unsigned>(tcb.fmc.value_or(0)))
                        : "";
  return fmt::format("{}blSPL={}&teeSPL={}&snpSPL={}&ucodeSPL={}", fmc,
                     static_cast<unsigned>(tcb.boot_loader), static_cast<unsigned>(tcb.tee),
                     static_cast<unsigned>(tcb.snp), static_cast<unsigned>(tcb.microcode));
}

Result<crypto::Certificate> ParseOneCertificate(const std::string& body) {
  if (std::string_view(body).find("-----BEGIN") != std::string_view::npos) {
    return crypto::Certificate::FromPem(body);
  }
  return crypto::Certificate::FromDer(AsBytes(body));
}

}  // namespace

struct KdsSource::Impl {
  KdsSourceOptions options;
  std::unique_ptr<internal::DocumentStore> store;
  internal::Fetcher fetcher;
  internal::SingleFlight flights;
  std::shared_ptr<const tdx::CollateralPool> empty_pool = tdx::CollateralPool::Build({});
  std::mutex mu;
  std::map<std::string, Attempt> attempts;  // by document id

  explicit Impl(KdsSourceOptions o)
      : options(std::move(o)),
        fetcher({.service = "AMD KDS",
                 .connect_timeout = options.connect_timeout,
                 .request_timeout = options.request_timeout,
                 .max_response_bytes = options.max_response_bytes,
                 .tls = options.tls,
                 .clock = options.clock}) {}

  // One fetch per document at a time, none within retry_interval of the last attempt; `fresh`
  // is re-checked inside the flight (another caller may just have fetched it).
  Status Refresh(const std::string& id, const std::function<bool()>& fresh,
                 const std::function<Status()>& fetch) {
    return flights.Do(id, [&]() -> Status {
      if (fresh()) return Status::Ok();
      const Timestamp wall = options.clock->Now();
      {
        std::lock_guard lock(mu);
        auto it = attempts.find(id);
        if (it != attempts.end() && wall < it->second.at + options.retry_interval) {
          return it->second.status;
        }
      }
      Status status = fetch();
      if (!status.ok()) {
        log::Warn("collateral.fetch_failed",
                  {{"document", id}, {"reason", status.reason()}, {"error", status.message()}});
      }
      std::lock_guard lock(mu);
      attempts[id] = {wall, status};
      return status;
    });
  }

  void Store(StoredDocument document) {
    log::Info("collateral.fetched", {{"document", document.Id()}, {"url", document.url}});
    Status written = store->Put(std::move(document));
    if (!written.ok()) log::Warn("collateral.cache.write_failed", {{"error", written.ToString()}});
  }

  Status FetchVcek(const SnpNeed& need, const std::string& url) {
    LUNAL_ASSIGN_OR_RETURN(net::HttpResponse response, fetcher.Get(url));
    auto cert = ParseOneCertificate(response.body);
    if (!cert.ok()) {
      return Unavailable("collateral.bad_response", "AMD KDS GET {}: not a certificate: {}", url,
                         cert.error().message());
    }
    LUNAL_ASSIGN_OR_RETURN(snp::AmdCertificates amd, Roots(need.product));
    if (Status s = internal::CheckCertificateForNeed(*cert, need, amd); !s.ok()) {
      return Unavailable("collateral.bad_response", "AMD KDS GET {}: {}", url, s.message());
    }
    const ByteSpan der = cert->Der();
    Store({.kind = "snp_vcek",
           .key = internal::VcekKey(need),
           .body = Bytes(der.begin(), der.end()),
           .issuer_chain = {},
           .url = url,
           .fetched = options.clock->Now(),
           .issued = FromSeconds(cert->NotBefore()),
           .next_update = FromSeconds(cert->NotAfter())});
    return Status::Ok();
  }

  Status FetchCrl(snp::Product product, const std::string& url) {
    LUNAL_ASSIGN_OR_RETURN(net::HttpResponse response, fetcher.Get(url));
    auto crl = crypto::Crl::FromDerOrPem(AsBytes(response.body));
    if (!crl.ok()) {
      return Unavailable("collateral.bad_response", "AMD KDS GET {}: not a CRL: {}", url,
                         crl.error().message());
    }
    LUNAL_ASSIGN_OR_RETURN(snp::AmdCertificates amd, Roots(product));
    if (Status s = crl->VerifySignature(amd.ark); !s.ok()) {
      return Unavailable("collateral.bad_response",
                         "AMD KDS GET {}: the CRL is not signed by ARK-{}: {}", url,
                         snp::ProductName(product), s.message());
    }
    if (!crl->NextUpdate()) {
      return Unavailable("collateral.bad_response", "AMD KDS GET {}: the CRL has no nextUpdate",
                         url);
    }
    const std::string id = "snp_crl/" + std::string(snp::ProductName(product));
    const Timestamp this_update = FromSeconds(crl->ThisUpdate());
    if (auto cached = store->Get(id); cached && cached->issued && *cached->issued > this_update) {
      return Status::Ok();  // no downgrade
    }
    const ByteSpan der = crl->Der();
    Store({.kind = "snp_crl",
           .key = std::string(snp::ProductName(product)),
           .body = Bytes(der.begin(), der.end()),
           .issuer_chain = {},
           .url = url,
           .fetched = options.clock->Now(),
           .issued = this_update,
           .next_update = FromSeconds(*crl->NextUpdate())});
    return Status::Ok();
  }

  Status FetchChain(snp::Product product, bool vlek, const std::string& url) {
    LUNAL_ASSIGN_OR_RETURN(net::HttpResponse response, fetcher.Get(url));
    auto chain = crypto::ParsePemChain(response.body);
    LUNAL_ASSIGN_OR_RETURN(snp::AmdCertificates amd, Roots(product));
    const crypto::Certificate& intermediate = vlek ? amd.asvk : amd.ask;
    if (!chain.ok() || chain->size() != 2 || !((*chain)[0] == intermediate) ||
        (*chain)[1].Sha256OfDer() != amd.anchor.der_sha256) {
      return Unavailable("collateral.bad_response",
                         "AMD KDS GET {}: expected the PEM {} and the pinned ARK of {}", url,
                         intermediate.SubjectCommonName(), snp::ProductName(product));
    }
    const crypto::Certificate& ark = (*chain)[1];
    Store({.kind = "snp_cert_chain",
           .key = fmt::format("{}/{}", snp::ProductName(product), vlek ? "vlek" : "vcek"),
           .body = ToBytes(response.body),
           .issuer_chain = {},
           .url = url,
           .fetched = options.clock->Now(),
           .issued = FromSeconds(std::max(intermediate.NotBefore(), ark.NotBefore())),
           .next_update = FromSeconds(std::min(intermediate.NotAfter(), ark.NotAfter()))});
    return Status::Ok();
  }

  Result<snp::AmdCertificates> Roots(snp::Product product) const {
    if (options.roots.empty()) return snp::AmdCertificatesFor(product);
    for (const snp::AmdCertificates& r : options.roots) {
      if (r.product == product) return r;
    }
    return Unavailable("collateral.unavailable", "no AMD roots configured for {}",
                       snp::ProductName(product));
  }

  std::string ProductUrl(snp::Product product, bool vlek) const {
    return fmt::format("{}/{}/v1/{}", options.base_url, vlek ? "vlek" : "vcek",
                       snp::ProductName(product));
  }
};

KdsSource::KdsSource(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
KdsSource::~KdsSource() = default;

Result<std::unique_ptr<KdsSource>> KdsSource::Open(KdsSourceOptions options) {
  if (options.cache_dir.empty()) {
    return InvalidArgument("collateral.options", "the KDS source needs a cache folder");
  }
  if (auto parsed = net::ParseUrl(options.base_url); !parsed.ok()) {
    return InvalidArgument("collateral.options", "KDS URL \"{}\": {}", options.base_url,
                           parsed.error().message());
  }
  while (options.base_url.ends_with('/')) options.base_url.pop_back();
  if (options.clock == nullptr) options.clock = &SystemClock::Instance();
  auto impl = std::make_unique<Impl>(options);
  LUNAL_ASSIGN_OR_RETURN(impl->store, internal::DocumentStore::Open(options.cache_dir / "kds"));
  return std::unique_ptr<KdsSource>(new KdsSource(std::move(impl)));
}

Result<std::shared_ptr<const tdx::CollateralPool>> KdsSource::TdxPool(const TdxNeed&, Timestamp) {
  return impl_->empty_pool;
}

Result<Bytes> KdsSource::SnpVcek(const SnpNeed& need, Timestamp now) {
  Impl& s = *impl_;
  if (need.vlek) {
    return Unavailable("collateral.unavailable",
                       "AMD KDS serves VLEKs only to the cloud provider; the evidence must carry "
                       "its VLEK");
  }
  if (need.chip_id.size() != 64 || std::all_of(need.chip_id.begin(), need.chip_id.end(),
                                               [](std::uint8_t b) { return b == 0; })) {
    return Unavailable("collateral.unavailable",
                       "the report's CHIP_ID is masked (MASK_CHIP_ID) or absent: KDS names a VCEK "
                       "by it");
  }
  const std::string key = internal::VcekKey(need);
  const std::string id = "snp_vcek/" + key;
  auto usable = [&] {
    auto cached = s.store->Get(id);
    return cached && cached->next_update && now < *cached->next_update;
  };
  const std::string url = fmt::format("{}/{}?{}", s.ProductUrl(need.product, false),
                                      HexEncode(internal::HwIdOf(need.product, need.chip_id)),
                                      TcbQuery(need.product, need.reported_tcb));
  Status status =
      usable() ? Status::Ok() : s.Refresh(id, usable, [&] { return s.FetchVcek(need, url); });
  if (auto cached = s.store->Get(id)) return cached->body;  // an expired one fails in the verifier
  return status;
}

Result<std::vector<Bytes>> KdsSource::SnpCrls(snp::Product product, Timestamp now) {
  Impl& s = *impl_;
  const std::string id = "snp_crl/" + std::string(snp::ProductName(product));
  auto cached_in_date = [&](std::chrono::seconds margin) -> std::optional<StoredDocument> {
    auto cached = s.store->Get(id);
    if (cached && cached->issued && cached->next_update && *cached->issued <= now &&
        now + margin < *cached->next_update) {
      return cached;
    }
    return std::nullopt;
  };
  const std::string url = s.ProductUrl(product, false) + "/crl";
  Status status = Status::Ok();
  if (!cached_in_date(s.options.refresh_margin)) {
    status = s.Refresh(
        id, [&] { return cached_in_date(s.options.refresh_margin).has_value(); },
        [&] { return s.FetchCrl(product, url); });
  }
  if (auto cached = cached_in_date(std::chrono::seconds(0))) {
    return std::vector<Bytes>{cached->body};
  }
  if (status.reason() == "collateral.not_found") return std::vector<Bytes>();  // KDS has none
  if (status.ok()) {
    return Unavailable("collateral.unavailable", "the AMD CRL of {} ({}) is not valid at {}",
                       snp::ProductName(product), url, FormatRfc3339(now));
  }
  return status;
}

Result<std::string> KdsSource::CertChain(snp::Product product, bool vlek, Timestamp) {
  Impl& s = *impl_;
  const std::string id =
      fmt::format("snp_cert_chain/{}/{}", snp::ProductName(product), vlek ? "vlek" : "vcek");
  auto held = [&] { return s.store->Get(id).has_value(); };
  const std::string url = s.ProductUrl(product, vlek) + "/cert_chain";
  Status status =
      held() ? Status::Ok() : s.Refresh(id, held, [&] { return s.FetchChain(product, vlek, url); });
  if (auto cached = s.store->Get(id)) return ToString(cached->body);
  return status;
}

std::vector<DocumentInfo> KdsSource::Describe(Timestamp now) const {
  std::vector<DocumentInfo> out;
  for (const StoredDocument& d : impl_->store->All()) {
    DocumentInfo info;
    info.kind = d.kind;
    info.key = d.key;
    info.source = "kds:" + d.url;
    info.issued = d.issued;
    info.next_update = d.next_update;
    info.fetched = d.fetched;
    info.valid = internal::InDate(d.issued, d.next_update, now);
    out.push_back(std::move(info));
  }
  return out;
}

}  // namespace lunal::attest::collateral
