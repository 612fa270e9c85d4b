// PcsSource (pcs_source.h): the refresh pipeline of TdxPool, numbered as in the header.
#include "lunal/attest/collateral/pcs_source.h"

#include <algorithm>
#include <array>
#include <map>
#include <mutex>
#include <set>
#include <utility>

#include "document_store.h"
#include "fetcher.h"
#include "lunal/attest/collateral/folder_source.h"
#include "lunal/common/encoding.h"
#include "lunal/common/log.h"
#include "single_flight.h"
#include "source_util.h"

namespace lunal::attest::collateral {

using internal::StoredDocument;

namespace {

// One of the four documents a TDX quote needs, and where PCS serves it [PCS API v4].
struct DocSpec {
  std::string kind;  // DocumentInfo::kind
  std::string key;   // DocumentInfo::key, equal to tdx::PoolFileReport::key
  std::string url;
  std::string chain_header;  // the response header with the URL-encoded issuer chain; "" = none
  std::string what;          // for messages
  std::string Id() const { return kind + "/" + key; }
};

std::string CaName(tdx::PckCa ca) { return ca == tdx::PckCa::kPlatform ? "platform" : "processor"; }

std::vector<DocSpec> SpecsFor(const TdxNeed& need, const PcsSourceOptions& o) {
  const std::string fmspc = HexEncode(need.fmspc);
  const std::string ca = CaName(need.ca);
  return {
      // "Get TDX TCB Info V4"
      {"tdx_tcb_info", "fmspc=" + fmspc, o.base_url + "/tdx/certification/v4/tcb?fmspc=" + fmspc,
       "TCB-Info-Issuer-Chain", "TCB Info for FMSPC " + fmspc},
      // "Enclave Identity V4" (TDX QE)
      {"tdx_qe_identity", "td_qe", o.base_url + "/tdx/certification/v4/qe/identity",
       "SGX-Enclave-Identity-Issuer-Chain", "TD QE identity"},
      // "Get Revocation List V4", DER
      {"pck_crl", "ca=" + ca,
       o.base_url + "/sgx/certification/v4/pckcrl?ca=" + ca + "&encoding=der",
       "SGX-PCK-CRL-Issuer-Chain", "PCK " + ca + " CA CRL"},
      // The Intel SGX Root CA certificate's CRL distribution point, DER.
      {"root_ca_crl", "root_ca", o.root_ca_crl_url, "", "Intel SGX Root CA CRL"},
  };
}

// Whether the pool holds a document for `spec` usable at `t` (the pool's own selection).
bool PoolCovers(const tdx::CollateralPool& pool, const DocSpec& spec, const TdxNeed& need,
                Timestamp t) {
  if (spec.kind == "tdx_tcb_info") return pool.SelectTcbInfo(need.fmspc, t).ok();
  if (spec.kind == "tdx_qe_identity") return pool.SelectQeIdentity(t).ok();
  if (spec.kind == "pck_crl") return pool.SelectPckCrl(need.ca, t).ok();
  return pool.SelectRootCaCrl(t).ok();
}

struct Attempt {
  Timestamp at;
  Status status;
};

// The FMSPC and CA: what a TdxPool call depends on.
using NeedKey = std::array<std::uint8_t, 7>;
NeedKey KeyOf(const TdxNeed& need) {
  NeedKey key{};
  std::copy(need.fmspc.begin(), need.fmspc.end(), key.begin());
  key[6] = static_cast<std::uint8_t>(need.ca);
  return key;
}

// The as-of times at which every document of a need is fresh, for one pool generation: inside
// it TdxPool is a lookup (the warm path of every verification).
struct FreshWindow {
  std::uint64_t generation;
  Timestamp from;
  Timestamp until;
};

}  // namespace

struct PcsSource::Impl {
  PcsSourceOptions options;
  std::unique_ptr<FolderSource> folders;
  std::set<std::string> folder_keys;  // pool keys the folders hold a trusted document for
  std::vector<tdx::PoolInput> folder_certificates;  // for checking fetched documents
  std::unique_ptr<internal::DocumentStore> store;
  internal::Fetcher fetcher;
  internal::SingleFlight flights;

  std::mutex mu;                            // guards attempts, pool, pool_generation, windows
  std::map<std::string, Attempt> attempts;  // by document id, times by options.clock
  std::map<NeedKey, FreshWindow> windows;
  std::shared_ptr<const tdx::CollateralPool> pool;
  std::uint64_t pool_generation = ~std::uint64_t{0};
  std::mutex rebuild_mu;  // one rebuild at a time

  explicit Impl(PcsSourceOptions o)
      : options(std::move(o)),
        fetcher({.service = "Intel PCS",
                 .connect_timeout = options.connect_timeout,
                 .request_timeout = options.request_timeout,
                 .max_response_bytes = options.max_response_bytes,
                 .tls = options.tls,
                 .clock = options.clock}) {}

  // 1. Fresh: usable now and still at now + margin, in the folders or in the cache.
  bool Fresh(const DocSpec& spec, const TdxNeed& need, Timestamp now) const {
    const tdx::CollateralPool& folder_pool = *folders->pool();
    if (folder_keys.contains(spec.key) && PoolCovers(folder_pool, spec, need, now) &&
        PoolCovers(folder_pool, spec, need, now + options.refresh_margin)) {
      return true;
    }
    auto cached = store->WindowOf(spec.Id());
    return cached && cached->issued && cached->next_update && *cached->issued <= now &&
           now + options.refresh_margin < *cached->next_update;
  }

  // The times t at which `spec` is fresh by the document that makes it fresh at `now`:
  // [issued, nextUpdate - margin). nullopt when it is not fresh at `now`.
  std::optional<std::pair<Timestamp, Timestamp>> FreshInterval(const DocSpec& spec,
                                                               const TdxNeed& need,
                                                               Timestamp now) const {
    const auto margin =
        std::chrono::duration_cast<std::chrono::microseconds>(options.refresh_margin);
    auto cached = store->WindowOf(spec.Id());
    if (cached && cached->issued && cached->next_update && *cached->issued <= now &&
        now + margin < *cached->next_update) {
      return std::pair{*cached->issued, *cached->next_update - margin};
    }
    if (!Fresh(spec, need, now)) return std::nullopt;
    const tdx::CollateralPool& p = *folders->pool();
    std::pair<Timestamp, Timestamp> window;
    if (spec.kind == "tdx_tcb_info") {
      const tdx::TcbInfo* doc = *p.SelectTcbInfo(need.fmspc, now);
      window = {doc->issue_date, doc->next_update};
    } else if (spec.kind == "tdx_qe_identity") {
      const tdx::QeIdentity* doc = *p.SelectQeIdentity(now);
      window = {doc->issue_date, doc->next_update};
    } else {
      auto crl = spec.kind == "pck_crl" ? p.SelectPckCrl(need.ca, now) : p.SelectRootCaCrl(now);
      window = {FromSeconds(crl->ThisUpdate()), FromSeconds(crl->NextUpdate().value())};
    }
    window.second -= margin;
    return window;
  }

  bool Held(const DocSpec& spec) const {
    return folder_keys.contains(spec.key) || store->WindowOf(spec.Id()).has_value();
  }

  // 3. Whether `body` (with `chain`) is the document `spec` asks for, verified under the pinned
  // root: returns its validity window from the pool's report.
  Result<tdx::PoolFileReport> Check(const DocSpec& spec, const std::string& body,
                                    const std::string& chain) const {
    std::vector<tdx::PoolInput> inputs;
    inputs.push_back({"response", ToBytes(body), Status::Ok()});
    if (!chain.empty()) inputs.push_back({"issuer chain", ToBytes(chain), Status::Ok()});
    for (const StoredDocument& d : store->All()) {
      if (!d.issuer_chain.empty()) inputs.push_back({d.Id(), ToBytes(d.issuer_chain), Status()});
    }
    inputs.insert(inputs.end(), folder_certificates.begin(), folder_certificates.end());
    auto checked = tdx::CollateralPool::Build(std::move(inputs), options.pool_options);
    const tdx::PoolFileReport& report = checked->files().front();
    if (!report.status.ok()) {
      return Unavailable("collateral.bad_response", "Intel PCS GET {}: the {} is refused: {}",
                         spec.url, spec.what, report.status.ToString());
    }
    if (report.key != spec.key || !report.issued || !report.next_update) {
      return Unavailable("collateral.bad_response",
                         "Intel PCS GET {}: asked for the {} ({}), got a {} document ({})",
                         spec.url, spec.what, spec.key, tdx::CollateralKindName(report.kind),
                         report.key.empty() ? report.detail : report.key);
    }
    return report;
  }

  // 2-3. Fetch, check, store.
  Status FetchOne(const DocSpec& spec) {
    LUNAL_ASSIGN_OR_RETURN(net::HttpResponse response, fetcher.Get(spec.url));
    std::string chain;
    if (!spec.chain_header.empty()) {
      auto header = response.Header(spec.chain_header);
      if (!header) {
        return Unavailable("collateral.bad_response", "Intel PCS GET {}: no {} header", spec.url,
                           spec.chain_header);
      }
      auto decoded = internal::DecodeIssuerChainHeader(*header);
      if (!decoded || !crypto::ParsePemChain(*decoded).ok()) {
        return Unavailable("collateral.bad_response",
                           "Intel PCS GET {}: the {} header is not URL-encoded PEM certificates",
                           spec.url, spec.chain_header);
      }
      chain = std::move(*decoded);
    }
    LUNAL_ASSIGN_OR_RETURN(tdx::PoolFileReport report, Check(spec, response.body, chain));
    std::optional<StoredDocument> cached = store->Get(spec.Id());
    if (cached && cached->issued && *cached->issued > *report.issued) {
      log::Info("collateral.pcs.older_document_ignored",
                {{"document", spec.Id()}, {"url", spec.url}});
      return Status::Ok();  // no downgrade
    }
    StoredDocument document{.kind = spec.kind,
                            .key = spec.key,
                            .body = ToBytes(response.body),
                            .issuer_chain = std::move(chain),
                            .url = spec.url,
                            .fetched = options.clock->Now(),
                            .issued = report.issued,
                            .next_update = report.next_update};
    Status written = store->Put(std::move(document));
    if (!written.ok()) {
      log::Warn("collateral.cache.write_failed", {{"error", written.ToString()}});
    }
    log::Info("collateral.fetched", {{"document", spec.Id()},
                                     {"url", spec.url},
                                     {"next_update", FormatRfc3339(*report.next_update)}});
    return Status::Ok();
  }

  // 2. At most one fetch per document at a time, and none within retry_interval of the last.
  Status Refresh(const DocSpec& spec, const TdxNeed& need, Timestamp now) {
    return flights.Do(spec.Id(), [&]() -> Status {
      if (Fresh(spec, need, now)) return Status::Ok();  // another flight just fetched it
      const Timestamp wall = options.clock->Now();
      {
        std::lock_guard lock(mu);
        auto it = attempts.find(spec.Id());
        if (it != attempts.end() && wall < it->second.at + options.retry_interval) {
          return it->second.status;
        }
      }
      Status status = FetchOne(spec);
      if (!status.ok()) {
        log::Warn(
            "collateral.fetch_failed",
            {{"document", spec.Id()}, {"reason", status.reason()}, {"error", status.message()}});
      }
      std::lock_guard lock(mu);
      attempts[spec.Id()] = {wall, status};
      return status;
    });
  }

  // 4. The pool of folders + cache, rebuilt when the cache changed.
  std::pair<std::shared_ptr<const tdx::CollateralPool>, std::uint64_t> CurrentPool() {
    auto current = [&]() -> std::pair<std::shared_ptr<const tdx::CollateralPool>, std::uint64_t> {
      const std::uint64_t generation = store->generation();
      std::lock_guard lock(mu);
      if (pool && pool_generation == generation) return {pool, generation};
      return {nullptr, 0};
    };
    if (auto p = current(); p.first) return p;
    std::lock_guard rebuild(rebuild_mu);
    if (auto p = current(); p.first) return p;  // another caller just rebuilt it
    const std::uint64_t generation = store->generation();
    std::vector<tdx::PoolInput> inputs = folders->pool_inputs();
    for (const StoredDocument& d : store->All()) {
      inputs.push_back({"pcs:" + d.Id(), d.body, Status::Ok()});
      if (!d.issuer_chain.empty()) {
        inputs.push_back({"pcs:" + d.Id() + "#issuer_chain", ToBytes(d.issuer_chain), Status()});
      }
    }
    auto built = tdx::CollateralPool::Build(std::move(inputs), options.pool_options);
    std::lock_guard lock(mu);
    pool = std::move(built);
    pool_generation = generation;
    windows.clear();
    return {pool, generation};
  }
};

PcsSource::PcsSource(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PcsSource::~PcsSource() = default;

Result<std::unique_ptr<PcsSource>> PcsSource::Open(PcsSourceOptions options) {
  if (options.cache_dir.empty()) {
    return InvalidArgument("collateral.options", "the PCS source needs a cache folder");
  }
  for (const std::string* url : {&options.base_url, &options.root_ca_crl_url}) {
    if (auto parsed = net::ParseUrl(*url); !parsed.ok()) {
      return InvalidArgument("collateral.options", "PCS URL \"{}\": {}", *url,
                             parsed.error().message());
    }
  }
  while (options.base_url.ends_with('/')) options.base_url.pop_back();
  if (options.clock == nullptr) options.clock = &SystemClock::Instance();
  auto impl = std::make_unique<Impl>(options);
  LUNAL_ASSIGN_OR_RETURN(impl->folders, FolderSource::Open({.folders = options.folders,
                                                            .pool_options = options.pool_options}));
  const auto& reports = impl->folders->pool()->files();
  for (std::size_t i = 0; i < reports.size(); ++i) {
    if (reports[i].status.ok() && !reports[i].key.empty()) impl->folder_keys.insert(reports[i].key);
    if (reports[i].kind == tdx::CollateralKind::kCertificates) {
      impl->folder_certificates.push_back(impl->folders->pool_inputs()[i]);
    }
  }
  LUNAL_ASSIGN_OR_RETURN(impl->store, internal::DocumentStore::Open(options.cache_dir / "pcs"));
  return std::unique_ptr<PcsSource>(new PcsSource(std::move(impl)));
}

Result<std::shared_ptr<const tdx::CollateralPool>> PcsSource::TdxPool(const TdxNeed& need,
                                                                      Timestamp now) {
  Impl& s = *impl_;
  const NeedKey key = KeyOf(need);
  {  // The warm path: every document fresh at `now` and the pool current.
    std::lock_guard lock(s.mu);
    auto it = s.windows.find(key);
    if (it != s.windows.end() && s.pool && it->second.generation == s.pool_generation &&
        s.pool_generation == s.store->generation() && it->second.from <= now &&
        now < it->second.until) {
      return s.pool;
    }
  }
  const std::vector<DocSpec> specs = SpecsFor(need, s.options);
  Status first_missing;
  for (const DocSpec& spec : specs) {
    if (s.Fresh(spec, need, now)) continue;
    Status status = s.Refresh(spec, need, now);
    if (!status.ok() && !s.Held(spec) && first_missing.ok()) {
      first_missing =
          Status(status.code(), status.reason(),
                 fmt::format("{} (nothing cached for the {})", status.message(), spec.what));
    }
  }
  if (!first_missing.ok()) return first_missing;
  auto [pool, generation] = s.CurrentPool();
  // Remember when this need is fresh again without looking (only if all four are fresh now).
  FreshWindow window{generation, Timestamp::min(), Timestamp::max()};
  for (const DocSpec& spec : specs) {
    auto interval = s.FreshInterval(spec, need, now);
    if (!interval) return pool;
    window.from = std::max(window.from, interval->first);
    window.until = std::min(window.until, interval->second);
  }
  std::lock_guard lock(s.mu);
  if (s.pool_generation == generation) s.windows[key] = window;
  return pool;
}

Result<Bytes> PcsSource::SnpVcek(const SnpNeed&, Timestamp) {
  return Unavailable("collateral.unavailable", "Intel PCS serves no AMD certificates");
}

Result<std::vector<Bytes>> PcsSource::SnpCrls(snp::Product, Timestamp) {
  return std::vector<Bytes>();
}

std::vector<DocumentInfo> PcsSource::Describe(Timestamp now) const {
  Impl& s = *impl_;
  std::map<std::string, StoredDocument> stored;
  for (StoredDocument& d : s.store->All()) stored["pcs:" + d.Id()] = std::move(d);
  std::vector<DocumentInfo> out;
  for (const tdx::PoolFileReport& report : s.CurrentPool().first->files()) {
    auto it = stored.find(report.name);
    if (it == stored.end()) {
      if (report.name.starts_with("pcs:")) continue;  // an issuer chain
      out.push_back(internal::DescribePoolFile(report, "folder:" + report.name, now));
      continue;
    }
    DocumentInfo info = internal::DescribePoolFile(report, "pcs:" + it->second.url, now);
    info.kind = it->second.kind;
    info.key = it->second.key;
    info.fetched = it->second.fetched;
    out.push_back(std::move(info));
  }
  return out;
}

}  // namespace lunal::attest::collateral
