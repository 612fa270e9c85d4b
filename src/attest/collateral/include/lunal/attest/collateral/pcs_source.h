// PcsSource: Intel TDX collateral from the Intel Provisioning Certification Service (PCS) API v4,
// cached on disk, plus any collateral folders. The exact requests: docs/protocols/pcs-kds.md; the
// cache: docs/formats/collateral-cache.md.
//
// For a TdxNeed (FMSPC, PCK CA) the pool must hold four documents: the TDX TCB Info of the
// FMSPC, the TD_QE identity, the PCK CRL of the CA and the Intel SGX Root CA CRL. TdxPool(need,
// now):
//   1. a document is fresh when the folders or the cache hold one usable at `now` and still at
//      `now + refresh_margin` (its nextUpdate is more than the margin away);
//   2. each document that is not fresh is fetched, once for all concurrent callers
//      (single-flight per document), unless one was attempted less than `retry_interval` ago by
//      the source's clock (so a refresh inside the margin that PCS answers with the same document,
//      or an outage, costs one request per interval, not one per verification);
//   3. a fetched document is checked before it is cached: the body parses, the issuer-chain
//      header decodes, the document verifies under the pinned root (a throw-away pool of the
//      document and its chain), and it is the one asked for (FMSPC, CA); then it replaces the
//      cached one unless the cached one was issued later (no downgrade);
//   4. the pool (cache + folders, tdx::CollateralPool::Build with the issuer chains as PEM inputs)
//      is rebuilt when the cache changed, and returned.
// A failed fetch is logged (event collateral.fetch_failed) and TdxPool still returns the pool:
// documents in date verify, expired ones fail in the verifier (tdx.collateral.expired). TdxPool
// fails (the fetch's reason: collateral.fetch_failed, .not_found, .rate_limited,
// .response_too_large, .bad_response) only when nothing at all is held for a needed document.
//
// TdxPool returns the same pool object until the cache changes, so a caller may keep one
// tdx::Verifier (and its warm cache) per pool. When nothing needs fetching, TdxPool costs four
// map lookups and two uncontended locks (no parsing, no copies).
//
// A new PcsSource over an existing cache folder serves what is cached without fetching until
// refresh is due. SNP: not served here (SnpVcek: collateral.unavailable; SnpCrls: empty).
//
// Thread-safety: every method may be called from many threads.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "lunal/attest/collateral/source.h"
#include "lunal/attest/tdx/collateral_pool.h"
#include "lunal/common/time.h"
#include "lunal/net/client.h"

namespace lunal::attest::collateral {

struct PcsSourceOptions {
  // PCS API base (no trailing slash); requests go to {base_url}/tdx/certification/v4/... and
  // {base_url}/sgx/certification/v4/pckcrl.
  std::string base_url = "https://api.trustedservices.intel.com";
  // The Root CA CRL is not a PCS API: it is the CRL distribution point of the Intel SGX Root CA
  // certificate itself (DER).
  std::string root_ca_crl_url = "https://certificates.trustedservices.intel.com/IntelSGXRootCA.der";
  std::filesystem::path cache_dir = {};             // required; documents go to cache_dir/pcs
  std::vector<std::filesystem::path> folders = {};  // read once, added to every pool
  std::chrono::seconds refresh_margin = std::chrono::hours(24);
  std::chrono::seconds retry_interval = std::chrono::minutes(5);
  std::chrono::milliseconds connect_timeout{5'000};
  std::chrono::milliseconds request_timeout{10'000};
  std::size_t max_response_bytes = std::size_t{1} << 20;
  // TLS to PCS: the system CA store unless ca_pem is set (a private mirror).
  net::ClientTlsOptions tls = {};
  tdx::PoolOptions pool_options = {};  // anchors: Intel's production root unless told otherwise
  const Clock* clock = nullptr;        // "fetched" times and retry windows; default SystemClock
};

class PcsSource final : public CollateralSource {
 public:
  // Opens (creates) the cache and reads the folders; fetches nothing. Errors: InvalidArgument
  // collateral.options (no cache_dir, bad URL), collateral.cache.io, collateral.folder.unreadable.
  static Result<std::unique_ptr<PcsSource>> Open(PcsSourceOptions options);
  ~PcsSource() override;

  Result<std::shared_ptr<const tdx::CollateralPool>> TdxPool(const TdxNeed& need,
                                                             Timestamp now) override;
  Result<Bytes> SnpVcek(const SnpNeed& need, Timestamp now) override;
  Result<std::vector<Bytes>> SnpCrls(snp::Product product, Timestamp now) override;
  std::vector<DocumentInfo> Describe(Timestamp now) const override;

  struct Impl;  // private

 private:
  explicit PcsSource(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace lunal::attest::collateral
