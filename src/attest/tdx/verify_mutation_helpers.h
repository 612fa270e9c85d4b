// Test support for verify_mutation_test.cc: editing the PCK certificate chain inside a real quote
// (in place, or replaced with length fix-ups), locating fields inside a certificate's DER, and a
// fake "Intel" PKI built with CertificateBuilder that re-signs a real quote end to end.
// Every offset is computed from a parsed QuoteView or from the certificate's own DER, never typed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lunal/attest/tdx/collateral_pool.h"
#include "lunal/attest/tdx/quote.h"
#include "lunal/attest/tdx/signatures.h"
#include "lunal/common/bytes.h"
#include "lunal/common/result.h"
#include "lunal/common/time.h"
#include "lunal/crypto/chain.h"
#include "lunal/crypto/keys.h"
#include "lunal/crypto/x509.h"

namespace lunal::attest::tdx::testing {

// Intel's test PKI root "Intel SGX Root CA", sha256(DER) bf85a53fc08f84cb1f73a4f75f48af566e30ac04
// 0699ba0ec1b8d593c05b56fc (../shared/evidence/README.md: "a verifier must ignore it"). It signed
// the intel-qvl and teekit Root CA CRLs in the collateral pool. Copied from
// github.com/canvasxyz/teekit test/sample/tdx/full_chain.pem @
// ee83ecc20e9462b90a15d369b0b6378a1fcdf369 (the first certificate of that file).
extern const std::string_view kIntelTestRootCaPem;

// One CERTIFICATE block of a PEM text: where its base64 body lies in the text and its DER.
struct PemBlock {
  std::size_t body_begin;  // first character after the BEGIN line
  std::size_t body_end;    // the '-' of the END line
  Bytes der;
};
// Every CERTIFICATE block of `pem`, in order (fails the test on malformed base64).
std::vector<PemBlock> PemBlocks(std::string_view pem);

// `quote` with certificate `index` of its PCK chain replaced by `der`, re-encoded in place: `der`
// must have the original's length, so the base64 has the same length and only its characters
// change (the line layout is kept, no length field moves).
Bytes ReplaceCertificateInPlace(ByteSpan quote, const QuoteView& view, std::size_t index,
                                ByteSpan der);

// `quote` cut after its QE authentication data and given `chain_data` as the nested (type 5)
// certification data, with the nested size, the outer (type 6) size and the signature data
// length fixed up. Nothing signed changes.
Bytes WithPckChainData(ByteSpan quote, const QuoteView& view, std::string_view chain_data);

// Offsets inside a certificate's DER (RFC 5280 §4.1), found by walking its TLVs.
std::size_t SerialLastByte(ByteSpan der);      // last contents byte of tbsCertificate.serialNumber
std::size_t SubjectKeyLastByte(ByteSpan der);  // last byte of subjectPublicKey (the point's y)
std::size_t IssuerLastByte(ByteSpan der);      // last byte of tbsCertificate.issuer
// The first byte of `fmspc` inside the SGX extension's FMSPC OCTET STRING (04 06 <fmspc>).
std::optional<std::size_t> FmspcOffset(ByteSpan der, std::span<const std::uint8_t, 6> fmspc);

// A PKI with Intel's names and fresh keys: "Intel SGX Root CA" (self-signed), the PCK CA (same
// subject as the real chain's issuer of the leaf), a PCK leaf carrying the real leaf's SGX
// extension bytes, and an "Intel SGX TCB Signing" certificate for collateral.
struct FakeIntelPki {
  crypto::PrivateKey root_key, ca_key, leaf_key, tcb_key;
  crypto::Certificate root, ca, leaf, tcb_signer;
  crypto::TrustAnchor anchor;    // pins `root`
  std::string ChainPem() const;  // leaf, CA, root, as Intel orders them, with a trailing NUL
};
// Certificates valid from `not_before` to `not_after`; the leaf until `leaf_not_after`.
Result<FakeIntelPki> MakeFakeIntelPki(const PckChain& real, Timestamp not_before,
                                      Timestamp not_after, Timestamp leaf_not_after);

// The real quote re-signed under `pki`: the chain replaced by `chain_pem`, a fresh attestation
// key, QE report data = SHA-256(new key ‖ QE auth data), the QE report signed by the fake leaf
// key and the quote by the new attestation key. Every signature inside the result verifies.
Result<Bytes> ForgeQuote(ByteSpan quote, const QuoteView& view, const FakeIntelPki& pki,
                         std::string_view chain_pem);

// A collateral pool that trusts only `pki.root`: the real TCB Info and QE identity selected for
// this quote (their exact served bytes) re-signed by the fake TCB signing key, and empty Root CA
// and PCK CRLs from the fake root and PCK CA, current at `as_of`.
Result<std::shared_ptr<const CollateralPool>> FakePool(const FakeIntelPki& pki,
                                                       const SelectedCollateral& real,
                                                       Timestamp as_of);

}  // namespace lunal::attest::tdx::testing
