// AMD CRLs applied to one verified VCEK/VLEK path (step 7 of verify.cc). Private to attest/snp;
// the rules are stated in verify.h.
#pragma once

#include <span>
#include <vector>

#include "lunal/attest/snp/report.h"
#include "lunal/attest/snp/signatures.h"
#include "lunal/common/bytes.h"
#include "lunal/common/result.h"
#include "lunal/common/time.h"
#include "lunal/crypto/x509.h"

namespace lunal::attest::snp::internal {

// A path that VerifyChain has accepted: the VCEK/VLEK, the ASK/ASVK that issued it, the ARK.
struct AmdPath {
  Product product;
  SigningKey key;
  const crypto::Certificate& leaf;
  const crypto::Certificate& intermediate;
  const crypto::Certificate& ark;
};

struct RevocationOutcome {
  bool ark_crl_applied = false;  // a CRL issued by the path's ARK was applied
  // The CRLs applied are current in [valid_from, valid_until).
  Timestamp valid_from = Timestamp::min();
  Timestamp valid_until = Timestamp::max();
};

// Each of `crls` as DER or PEM. Errors: snp.crl.unparsable (kMalformed), naming the index.
Result<std::vector<crypto::Crl>> ParseCrls(const std::vector<Bytes>& crls);

// Each CRL in turn: it names (as issuer) an AMD certificate of `roots`, and if that is the
// path's ARK or ASK/ASVK it verifies under it (snp.crl.signature_invalid), is current at `as_of`
// (snp.crl.not_yet_valid, snp.crl.expired) and lists none of the certificates it speaks for
// (snp.chain.cert_revoked). Then, with `require_crl`, one was issued by the ARK (snp.crl.missing).
Result<RevocationOutcome> CheckRevocation(std::span<const crypto::Crl> crls, const AmdPath& path,
                                          std::span<const AmdCertificates> roots, Timestamp as_of,
                                          bool require_crl);

// snp.crl.missing (kUnavailable) for `product`.
Status CrlMissing(Product product);

}  // namespace lunal::attest::snp::internal
