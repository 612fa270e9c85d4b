// Collateral sources: where the verifiers' vendor collateral comes from (DESIGN.md, "attestation"
// component). One interface, three implementations (folder_source.h, pcs_source.h,
// kds_source.h) and their composition (standard_source.h), all fail-closed: a source never
// presents a document as valid past its nextUpdate, and a source that cannot provide what is
// needed says so with kUnavailable (the verifier then reports the collateral it lacks).
//
// The verifiers stay offline and pure: a source hands them a CollateralPool (TDX) or certificate
// and CRL bytes (SNP); fetching, caching and refreshing happen here, before verification. Every
// document a source hands out is re-verified by the verifier against the pinned roots; a source
// checks documents before caching them only so that it never caches junk.
//
// TdxPool returns a pool whenever it holds anything for the need, even when a refresh failed:
// documents still in date then verify, and expired ones fail in the verifier with
// tdx.collateral.expired (the pool's own selection), never "served anyway". It fails only when
// the source has nothing for the need and could not fetch it.
//
// Errors (stable reasons, all kUnavailable: retrying later may help):
//   collateral.unavailable         the source cannot provide this (a folder without a VCEK, a
//                                  VLEK, a report with a masked chip id, a product KDS lacks)
//   collateral.not_found           the vendor service answered 404
//   collateral.fetch_failed        connect/TLS/timeout failure or another HTTP status
//   collateral.rate_limited        HTTP 429, or still within its Retry-After window
//   collateral.response_too_large  a response over the configured size limit
//   collateral.bad_response        a response that is not the document asked for: unparsable,
//                                  missing its issuer-chain header, not signed under the pinned
//                                  root, another FMSPC / CA / chip / TCB than requested
//   collateral.cache.io            the cache folder cannot be created (at construction)
// Messages name the service, the URL and what was wrong. TdxNeedOf: tdx.* parse reasons.
//
// Thread-safety: implementations are safe to call from many threads.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "lunal/attest/snp/report.h"
#include "lunal/attest/tdx/collateral_pool.h"
#include "lunal/attest/tdx/pck_extensions.h"
#include "lunal/common/bytes.h"
#include "lunal/common/json.h"
#include "lunal/common/result.h"
#include "lunal/common/time.h"

namespace lunal::attest::collateral {

// What a TDX quote needs: the FMSPC and issuing CA read (untrusted, as a fetch hint) from its PCK
// certificate. The verifier then checks everything against the pinned root.
struct TdxNeed {
  std::array<std::uint8_t, 6> fmspc{};
  tdx::PckCa ca = tdx::PckCa::kPlatform;
};

// What an SNP report needs when it does not carry its VCEK: AMD KDS names a VCEK by product,
// hardware id (CHIP_ID) and REPORTED_TCB.
struct SnpNeed {
  snp::Product product = snp::Product::kMilan;
  Bytes chip_id;  // 64 bytes
  snp::TcbParts reported_tcb;
  bool vlek = false;  // VLEKs are not served by hardware id: only their chain is fetched
};

// One cached or served document, for GET /v1/attestation/collateral.
struct DocumentInfo {
  std::string kind;    // "tdx_tcb_info", "tdx_qe_identity", "pck_crl", "root_ca_crl", "snp_vcek",
                       // "snp_vlek", "snp_cert_chain", "snp_crl"; folder files that are none of
                       // these: "certificates", "unknown"
  std::string key;     // "fmspc=50806f000000", "td_qe", "ca=platform", "root_ca",
                       // "Milan/<hwid hex>/bl3-tee0-snp8-ucode115", "Milan/vcek", "Milan", ...
  std::string source;  // "folder:/path/file", "pcs:https://…", "kds:https://…" (the URL it was
                       // fetched from; `fetched` says when, also for documents read from cache)
  std::optional<Timestamp> issued;
  std::optional<Timestamp> next_update;  // the document stops being served as valid here
  std::optional<Timestamp> fetched;
  bool valid = false;  // usable: issued <= now < next_update, and (folders) signed under the pin
  std::string detail = {};  // what it is, or why it is not used ("not signed under a pinned root")
};

// {"kind", "key", "source", "issued", "next_update", "fetched" (RFC 3339 or null), "valid",
// "detail"}: one entry of GET /v1/attestation/collateral.
Json DocumentInfoToJson(const DocumentInfo& info);

class CollateralSource {
 public:
  virtual ~CollateralSource() = default;

  // A pool holding what `need` requires, current at `now` when the source can provide it
  // (fetching or refreshing as needed). The pool may hold more; the verifier selects.
  virtual Result<std::shared_ptr<const tdx::CollateralPool>> TdxPool(const TdxNeed& need,
                                                                     Timestamp now) = 0;

  // The VCEK (DER) for an SNP report that does not carry one; kUnavailable when the source
  // cannot provide it (the folder source never can).
  virtual Result<Bytes> SnpVcek(const SnpNeed& need, Timestamp now) = 0;

  // AMD's CRLs (DER) for the product, current at `now`; empty when the source has none (CRL
  // checking is then skipped unless policy requires it).
  virtual Result<std::vector<Bytes>> SnpCrls(snp::Product product, Timestamp now) = 0;

  // Everything the source holds, with validity at `now`.
  virtual std::vector<DocumentInfo> Describe(Timestamp now) const = 0;
};

// The FMSPC and CA of a TDX quote's PCK certificate, read without verifying anything (a hint for
// fetching; the verifier re-derives both from the validated chain). Errors: the quote parser's
// and tdx.pck.* reasons.
Result<TdxNeed> TdxNeedOf(ByteSpan quote);

}  // namespace lunal::attest::collateral
