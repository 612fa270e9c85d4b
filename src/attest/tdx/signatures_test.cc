// The signature steps over every real TDX quote in ../shared/evidence, and a mutation table that
// flips one byte in each signed region of real quotes and expects the right link to break.
#include "lunal/attest/tdx/signatures.h"

#include <gtest/gtest.h>

#include "lunal/attest/tdx/evidence_input.h"
#include "lunal/crypto/chain.h"
#include "test_quotes.h"

namespace lunal::attest::tdx {
namespace {

using testing::EvidenceQuote;
using testing::EvidenceQuotes;
using testing::ReadEvidence;

// Runs steps 0-3 the way the verifier does; returns the first failure.
Status RunSignatureSteps(const QuoteView& quote) {
  LUNAL_RETURN_IF_ERROR(CheckQeVendor(quote));
  LUNAL_RETURN_IF_ERROR(VerifyQuoteSignature(quote));
  LUNAL_ASSIGN_OR_RETURN(PckChain chain, ParsePckChain(quote));
  LUNAL_ASSIGN_OR_RETURN(crypto::PublicKey pck_key, chain.leaf.PublicKey());
  LUNAL_RETURN_IF_ERROR(VerifyQeReportSignature(quote, pck_key));
  return VerifyAttestationKeyBinding(quote);
}

Bytes QuoteBytes(const EvidenceQuote& q) {
  auto decoded = DecodeQuoteContainer(ReadEvidence(q.path));
  EXPECT_TRUE(decoded.ok()) << q.path << ": " << decoded.error();
  return decoded.ok() ? decoded->quote : Bytes();
}

ParseOptions Lenient() { return {.trailing = ParseOptions::Trailing::kIgnore}; }

class RealQuoteSignatureTest : public ::testing::TestWithParam<EvidenceQuote> {};

TEST_P(RealQuoteSignatureTest, EveryLinkVerifies) {
  Bytes bytes = QuoteBytes(GetParam());
  auto quote = ParseQuote(bytes, Lenient());
  ASSERT_TRUE(quote.ok()) << quote.error();
  EXPECT_TRUE(RunSignatureSteps(*quote).ok()) << RunSignatureSteps(*quote);
  auto chain = ParsePckChain(*quote);
  ASSERT_TRUE(chain.ok());
  // The leaf's issuer is one of Intel's two PCK CAs.
  EXPECT_NE(chain->leaf.IssuerName().find("Intel SGX PCK"), std::string::npos)
      << chain->leaf.IssuerName();
}

INSTANTIATE_TEST_SUITE_P(Evidence, RealQuoteSignatureTest, ::testing::ValuesIn(EvidenceQuotes()));

struct Mutation {
  const char* name;
  // Offset of the byte to flip, from the parsed view of the original quote.
  std::size_t (*offset)(const QuoteView& q, ByteSpan base);
  const char* reason;
};

std::size_t At(ByteSpan field, ByteSpan base, std::size_t index = 0) {
  return static_cast<std::size_t>(field.data() - base.data()) + index;
}

const Mutation kMutations[] = {
    {"header.user_data", [](const QuoteView& q, ByteSpan b) { return At(q.header.user_data, b); },
     "tdx.quote.signature_invalid"},
    {"header.qe_svn", [](const QuoteView& q, ByteSpan b) { return At(q.header.raw, b, 8); },
     "tdx.quote.signature_invalid"},
    {"body.mr_td", [](const QuoteView& q, ByteSpan b) { return At(q.body.mr_td, b, 47); },
     "tdx.quote.signature_invalid"},
    {"body.rtmr3", [](const QuoteView& q, ByteSpan b) { return At(q.body.rtmr[3], b); },
     "tdx.quote.signature_invalid"},
    {"body.report_data", [](const QuoteView& q, ByteSpan b) { return At(q.body.report_data, b); },
     "tdx.quote.signature_invalid"},
    {"body.td_attributes",
     [](const QuoteView& q, ByteSpan b) { return At(q.body.td_attributes.raw, b); },
     "tdx.quote.signature_invalid"},
    {"signature.r", [](const QuoteView& q, ByteSpan b) { return At(q.signature, b, 5); },
     "tdx.quote.signature_invalid"},
    {"signature.s", [](const QuoteView& q, ByteSpan b) { return At(q.signature, b, 40); },
     "tdx.quote.signature_invalid"},
    {"qe_report.cpu_svn", [](const QuoteView& q, ByteSpan b) { return At(q.qe_report.cpu_svn, b); },
     "tdx.qe_report.signature_invalid"},
    {"qe_report.mr_signer",
     [](const QuoteView& q, ByteSpan b) { return At(q.qe_report.mr_signer, b); },
     "tdx.qe_report.signature_invalid"},
    {"qe_report.report_data",
     [](const QuoteView& q, ByteSpan b) { return At(q.qe_report.report_data, b, 63); },
     "tdx.qe_report.signature_invalid"},
    {"qe_report_signature",
     [](const QuoteView& q, ByteSpan b) { return At(q.qe_report_signature, b, 10); },
     "tdx.qe_report.signature_invalid"},
    {"qe_auth_data", [](const QuoteView& q, ByteSpan b) { return At(q.qe_auth_data, b); },
     "tdx.qe_report.attestation_key_binding"},
    {"header.qe_vendor_id",
     [](const QuoteView& q, ByteSpan b) { return At(q.header.qe_vendor_id, b); },
     "tdx.header.unknown_qe_vendor"},
};

class SignatureMutationTest : public ::testing::TestWithParam<EvidenceQuote> {};

TEST_P(SignatureMutationTest, EachSignedRegionBreaksItsLink) {
  const Bytes original = QuoteBytes(GetParam());
  auto view = ParseQuote(original, Lenient());
  ASSERT_TRUE(view.ok()) << view.error();
  for (const Mutation& m : kMutations) {
    Bytes mutated = original;
    std::size_t offset = m.offset(*view, original);
    ASSERT_LT(offset, mutated.size()) << m.name;
    mutated[offset] ^= 0x01;
    auto parsed = ParseQuote(mutated, Lenient());
    ASSERT_TRUE(parsed.ok()) << m.name << ": " << parsed.error();
    Status s = RunSignatureSteps(*parsed);
    EXPECT_EQ(s.reason(), m.reason) << m.name << ": " << s;
  }
}

TEST_P(SignatureMutationTest, AnyAttestationKeyChangeIsCaught) {
  // Changing the key either leaves the curve or breaks the quote signature; never accepted.
  const Bytes original = QuoteBytes(GetParam());
  auto view = ParseQuote(original, Lenient());
  ASSERT_TRUE(view.ok());
  for (std::size_t i : {0u, 31u, 32u, 63u}) {
    Bytes mutated = original;
    mutated[At(view->attestation_key, original, i)] ^= 0x80;
    auto parsed = ParseQuote(mutated, Lenient());
    ASSERT_TRUE(parsed.ok());
    Status s = RunSignatureSteps(*parsed);
    EXPECT_TRUE(s.reason() == "tdx.attestation_key.invalid" ||
                s.reason() == "tdx.quote.signature_invalid")
        << "byte " << i << ": " << s;
  }
}

TEST_P(SignatureMutationTest, AnotherPlatformsPckKeyDoesNotSignThisQeReport) {
  // The QE report signature must be checked against this quote's PCK key, not any valid one:
  // a key from a different real quote's chain fails.
  const Bytes original = QuoteBytes(GetParam());
  auto view = ParseQuote(original, Lenient());
  ASSERT_TRUE(view.ok());
  auto other_key = crypto::PrivateKey::Generate(crypto::KeyType::kEcP256);
  ASSERT_TRUE(other_key.ok());
  auto pub = other_key->PublicKey();
  ASSERT_TRUE(pub.ok());
  EXPECT_EQ(VerifyQeReportSignature(*view, *pub).reason(), "tdx.qe_report.signature_invalid");
  auto rsa_like = crypto::PrivateKey::Generate(crypto::KeyType::kEcP384);
  EXPECT_EQ(VerifyQeReportSignature(*view, *rsa_like->PublicKey()).reason(),
            "tdx.pck.key_not_p256");
}

INSTANTIATE_TEST_SUITE_P(Evidence, SignatureMutationTest, ::testing::ValuesIn(EvidenceQuotes()));

}  // namespace
}  // namespace lunal::attest::tdx
