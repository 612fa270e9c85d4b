// Test support: an AMD-shaped Genoa hierarchy (ARK → ASK → VCEK, ARK → ASVK → VLEK) with AMD's
// names and serials but fresh P-384 keys, and the real live-report-v5-genoa.bin re-signed by its
// leaf. AMD's keys sign the real certificates, so this is the only way to make CRLs "from the
// ARK" for tests. A Verifier trusts it only when given `roots` explicitly; to the default
// Verifier its certificates and CRLs are impostors with AMD's names.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lunal/attest/snp/report.h"
#include "lunal/attest/snp/signatures.h"
#include "lunal/common/bytes.h"
#include "lunal/common/result.h"
#include "lunal/common/time.h"
#include "lunal/crypto/keys.h"
#include "lunal/crypto/x509.h"
#include "lunal/crypto/x509_builder.h"

namespace lunal::attest::snp::testing {

struct FakeAmd {
  crypto::PrivateKey ark_key, ask_key, asvk_key, leaf_key;
  AmdCertificates roots;     // product Genoa, anchor pinning the fake ARK
  crypto::Certificate leaf;  // "SEV-VCEK" (serial 0, as AMD's) or "SEV-VLEK"
  Bytes report;              // the real v5 Genoa report, FLAGS.SIGNING_KEY set, re-signed
  Timestamp as_of;           // 2029-08-19T11:01:36Z, the real report's as-of time

  // `key` is kVcek or kVlek; the ASK and ASVK expire at `intermediate_not_after` (the ARK in
  // 2047, the leaf when the real VCEK does, 2033-02-17T23:01:36Z). Fails only if the builder or
  // the evidence fails.
  static Result<FakeAmd> Make(SigningKey key,
                              std::string_view intermediate_not_after = "2047-10-26T00:00:00Z");

  // A CRL issued by `issuer` (roots.ark / .ask / .asvk; signed with the matching key) listing
  // `revoked` serials (hex, as Certificate::SerialHex prints them).
  Result<crypto::Crl> CrlFrom(const crypto::Certificate& issuer, std::string_view this_update,
                              std::optional<std::string_view> next_update,
                              const std::vector<std::string>& revoked = {}) const;
};

// AMD's subject layout: OU=Engineering, C=US, L=Santa Clara, ST=CA, O=Advanced Micro Devices, CN.
void AddAmdSubject(crypto::CertificateBuilder& builder, std::string common_name);

inline Bytes DerOf(const crypto::Crl& crl) { return Bytes(crl.Der().begin(), crl.Der().end()); }
inline Bytes DerOf(const crypto::Certificate& cert) {
  return Bytes(cert.Der().begin(), cert.Der().end());
}

}  // namespace lunal::attest::snp::testing
