// VerifyTdxQuote: Intel TDX quote verification as one numbered pipeline (verify.cc), offline,
// against a collateral pool and the pinned Intel SGX Root CA, as of a stated time.
//
// What "verified" means: every signature from the pinned root down to the TD report holds, no
// certificate or CRL in the path is expired or revoked at `as_of`, the collateral used was
// signed under the pinned root and valid at `as_of`, the QE is Intel's and matches its identity,
// and the platform's TCB matches a level in the TCB Info. The TCB *status* of that level
// (UpToDate, OutOfDate, …) is then reported as a result, not judged: policy decides whether
// OutOfDate is acceptable. A TCB with no matching level (NotSupported) fails.
//
// Thread-safety: a Verifier is immutable after construction except for its internal cache,
// which is synchronised; Verify may be called from many threads.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "lunal/attest/tdx/collateral_pool.h"
#include "lunal/attest/tdx/pck_extensions.h"
#include "lunal/attest/tdx/quote.h"
#include "lunal/attest/tdx/tcb_status.h"
#include "lunal/common/json.h"
#include "lunal/common/time.h"
#include "lunal/crypto/chain.h"

namespace lunal::attest::tdx {

struct VerifyOptions {
  Timestamp as_of;  // required: collateral, certificates and CRLs must be valid then
  // When set, the TD report's REPORT_DATA must equal these 64 bytes exactly.
  std::optional<Bytes> expected_report_data = std::nullopt;
};

// The verified claims. Only the verifier constructs one; it holds copies, not views, so it
// outlives the quote bytes.
struct TdxVerification {
  std::uint16_t quote_version = 0;
  BodyType body_type = BodyType::kTd10;
  Bytes mr_td, mr_config_id, mr_owner, mr_owner_config, mr_seam, mr_signer_seam;
  std::array<Bytes, 4> rtmr;
  Bytes report_data;
  Bytes tee_tcb_svn, xfam, seam_attributes;
  std::uint64_t td_attributes = 0;
  bool debug = false;
  std::vector<std::string> td_attribute_flags;
  std::size_t trailing_bytes = 0;  // unsigned bytes after the quote, ignored (non-zero ones)

  PckExtensions pck;
  PckCa pck_ca = PckCa::kPlatform;
  std::string certificate_chain;  // "Intel SGX Root CA (pinned) → …"
  // The PCK chain ended at one of the Verifier's simulated anchors (the per-installation "Lunal
  // Simulation Root CA" of the sim-tdx backend), or its PCK was issued by the simulation's PCK
  // CA (kSimPckPlatformCaName): no hardware protects this TD.
  bool simulated = false;
  TcbVerdict tcb;
  std::uint32_t tcb_evaluation_data_number = 0;
  std::uint16_t qe_isv_svn = 0;
  Timestamp collateral_valid_until;
  Timestamp as_of;

  // The "measurements" and "platform_verification" objects of the verification record
  // (DESIGN.md), plus "tee" ({"type":"tdx","simulated":…,…}).
  Json ToJson() const;
};

class Verifier {
 public:
  // The pool provides collateral; `anchors` are the roots PCK chains may end at (default: the
  // Intel SGX Root CA only). `simulated_anchors` are trusted as well, but a quote whose chain
  // ends at one of them verifies with TdxVerification::simulated = true: pass the sim-tdx
  // simulation root (src/attest/sim, SimulationRoot::Anchor()) here, and only when the
  // deployment explicitly trusts it (docs/formats/sim-tdx.md).
  explicit Verifier(std::shared_ptr<const CollateralPool> pool,
                    std::vector<crypto::TrustAnchor> anchors = {IntelSgxRootCaAnchor()},
                    std::vector<crypto::TrustAnchor> simulated_anchors = {});
  ~Verifier();
  Verifier(const Verifier&) = delete;
  Verifier& operator=(const Verifier&) = delete;

  // `quote` is the raw quote (see DecodeQuoteContainer for files). Errors carry the reason of
  // the first step that failed.
  Result<TdxVerification> Verify(ByteSpan quote, const VerifyOptions& options) const;

 private:
  struct Cache;
  struct UntrustedPlatform;
  struct TrustedPlatform;
  // Step 3's key import, cached by the key's bytes.
  Result<crypto::PublicKey> AttestationKeyFor(const QuoteView& quote) const;
  // Step 4, cached per PCK chain bytes: the parsed chain and its issuing CA.
  Result<std::shared_ptr<const UntrustedPlatform>> ParsedPlatformOf(const QuoteView& quote) const;
  // Step 6, cached per (chain, CRLs) for the window in which the path stays valid: the validated
  // path's description and what the leaf then tells us (key, SGX extension).
  Result<std::shared_ptr<const TrustedPlatform>> TrustedPlatformOf(
      const UntrustedPlatform& platform, const crypto::Crl& root_ca_crl, const crypto::Crl& pck_crl,
      Timestamp as_of) const;

  std::shared_ptr<const CollateralPool> pool_;
  std::vector<crypto::TrustAnchor> anchors_;  // the real anchors, then the simulated ones
  std::vector<std::array<std::uint8_t, 32>> simulated_pins_;
  std::unique_ptr<Cache> cache_;
};

}  // namespace lunal::attest::tdx
