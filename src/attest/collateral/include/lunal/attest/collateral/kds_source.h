// KdsSource: AMD SEV-SNP certificates and CRLs from the AMD Key Distribution Service (KDS),
// cached on disk. The exact requests: docs/protocols/pcs-kds.md; the cache:
// docs/formats/collateral-cache.md.
//
// SnpVcek(need, now): GET {base}/vcek/v1/{Milan|Genoa|Turin}/{hwid}?[fmcSPL=..&]blSPL=..&teeSPL=..
// &snpSPL=..&ucodeSPL=.. (hwid: CHIP_ID in hex, its first 8 bytes for Turin), DER. A VCEK is
// cached for good under product/hwid/TCB (KDS names one certificate by them); it carries no
// nextUpdate but expires at its notAfter, after which it is fetched again (and, if that fails,
// handed out anyway for the verifier to reject as snp.vcek.expired). Before caching, the
// certificate must be issued by the product's ASK (embedded) and its hwID and SPL extensions
// must equal the need (collateral.bad_response otherwise). VLEKs are not served by hardware id
// (KDS requires the cloud provider's credentials): need.vlek is collateral.unavailable, as is a
// CHIP_ID of zeros (MASK_CHIP_ID).
//
// SnpCrls(product, now): GET {base}/vcek/v1/{product}/crl, DER, issued by the product's ARK
// (signature checked before caching). Cached and refreshed like PCS documents: fetched when
// none is cached, or its nextUpdate is within refresh_margin of `now`; a failed refresh serves
// the cached CRL while in date. A 404 means "none": an empty list (remembered for
// retry_interval). A CRL past its nextUpdate is never returned.
//
// CertChain(product, vlek, now): GET {base}/{vcek|vlek}/v1/{product}/cert_chain (PEM, ASK or
// ASVK then ARK); the ARK must match the pinned digest and the ASK/ASVK the embedded one. Not
// needed to verify (the roots are embedded); offered for operators and Describe.
//
// Rate limits: KDS answers 429 with Retry-After when asked too often. The source then fails at
// once (collateral.rate_limited) until that time passes, without sleeping or asking again.
//
// Thread-safety: every method may be called from many threads; concurrent requests for one
// document share one fetch.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "lunal/attest/collateral/source.h"
#include "lunal/attest/snp/signatures.h"
#include "lunal/common/time.h"
#include "lunal/net/client.h"

namespace lunal::attest::collateral {

struct KdsSourceOptions {
  std::string base_url = "https://kdsintf.amd.com";
  std::filesystem::path cache_dir = {};  // required; documents go to cache_dir/kds
  std::chrono::seconds refresh_margin = std::chrono::hours(24);
  std::chrono::seconds retry_interval = std::chrono::minutes(5);
  std::chrono::milliseconds connect_timeout{5'000};
  std::chrono::milliseconds request_timeout{10'000};
  std::size_t max_response_bytes = std::size_t{64} << 10;  // a VCEK is ~1.4 KB, a CRL ~1 KB
  net::ClientTlsOptions tls = {};  // the system CA store unless ca_pem is set
  const Clock* clock = nullptr;    // "fetched" times, retry and Retry-After windows
  // The AMD roots fetched documents are checked against (ARK signs CRLs, ASK issues VCEKs).
  // Empty: AMD's embedded roots (snp/signatures.h). Others are for tests only.
  std::vector<snp::AmdCertificates> roots = {};
};

class KdsSource final : public CollateralSource {
 public:
  // Opens (creates) the cache; fetches nothing. Errors: InvalidArgument collateral.options,
  // collateral.cache.io.
  static Result<std::unique_ptr<KdsSource>> Open(KdsSourceOptions options);
  ~KdsSource() override;

  // A pool of nothing: KDS serves no Intel collateral.
  Result<std::shared_ptr<const tdx::CollateralPool>> TdxPool(const TdxNeed& need,
                                                             Timestamp now) override;
  Result<Bytes> SnpVcek(const SnpNeed& need, Timestamp now) override;
  Result<std::vector<Bytes>> SnpCrls(snp::Product product, Timestamp now) override;
  std::vector<DocumentInfo> Describe(Timestamp now) const override;

  // The product's PEM chain (ASK or ASVK, then ARK), checked against the embedded roots.
  Result<std::string> CertChain(snp::Product product, bool vlek, Timestamp now);

  struct Impl;  // private

 private:
  explicit KdsSource(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace lunal::attest::collateral
