// DecodeQuoteContainer: every container form of a real quote yields the same quote bytes; the
// real JSON evidence files are recognised; everything else is rejected with a stable reason.
#include "lunal/attest/tdx/evidence_input.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "lunal/attest/tdx/quote.h"
#include "lunal/common/encoding.h"
#include "lunal/common/json.h"
#include "test_quotes.h"

namespace lunal::attest::tdx {
namespace {

using testing::PutU16;
using testing::ReadEvidence;

constexpr std::string_view kAzTdQuote =
    "lunal-attestation-rs/crates/attestation/test_data/az_tdx/td-quote.bin";

// Wraps text at `width` columns with "\r\n" or "\n", as PEM-minded tools do.
std::string Wrap(std::string_view text, std::size_t width, std::string_view eol) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); i += width) {
    out.append(text.substr(i, width));
    out.append(eol);
  }
  return out;
}

std::string Upper(std::string s) {
  for (char& c : s) {
    if (c >= 'a' && c <= 'f') c = static_cast<char>(c - 'a' + 'A');
  }
  return s;
}

std::string ByteArrayJson(ByteSpan bytes) {
  Json array = Json::array();
  for (std::uint8_t b : bytes) array.push_back(b);
  return array.dump();
}

// The quote bytes ParseQuote finds in a decoded container (padding stripped).
Bytes QuoteIn(const DecodedQuote& decoded) {
  auto q = ParseQuote(decoded.quote);
  EXPECT_TRUE(q.ok()) << q.error();
  return q.ok() ? Bytes(q->quote.begin(), q->quote.end()) : Bytes();
}

TEST(EvidenceInputTest, EveryFormOfOneQuoteYieldsTheSameBytes) {
  const Bytes quote = ReadEvidence(testing::Quote4Path());
  ASSERT_FALSE(quote.empty());
  const std::string b64 = Base64Encode(quote);
  const std::string b64url = Base64UrlEncode(quote);
  const std::string hex = HexEncode(quote);
  Bytes padded = quote;
  padded.resize(8000, 0);

  struct Form {
    std::string name;
    Bytes file;
    Container want;
  };
  const std::vector<Form> forms = {
      {"raw", quote, Container::kRaw},
      {"padded", padded, Container::kRaw},
      {"hex", ToBytes(hex), Container::kHex},
      {"hex, upper case, wrapped", ToBytes(Wrap(Upper(hex), 60, "\n")), Container::kHex},
      {"base64", ToBytes(b64), Container::kBase64},
      {"base64, wrapped, CRLF, trailing newline", ToBytes(Wrap(b64, 64, "\r\n")),
       Container::kBase64},
      {"base64url, no padding", ToBytes("  " + b64url + "\n"), Container::kBase64},
      {"{quote}", ToBytes(R"({"quote": ")" + b64 + R"(", "cc_eventlog": null})"),
       Container::kQuoteJson},
      {"{quote: hex}", ToBytes(R"({"quote": ")" + hex + R"("})"), Container::kQuoteJson},
      {"lunal envelope",
       ToBytes(R"({"platform": "tdx", "quote": ")" + b64 + R"(", "nonce": "00"})"),
       Container::kLunalEnvelope},
      {"attestation-rs tdx",
       ToBytes(R"({"platform": "tdx", "evidence": {"quote": ")" + b64 + R"("}})"),
       Container::kAttestationRsTdx},
      {"attestation-rs gcp-tdx",
       ToBytes(R"({"platform": "gcp-tdx", "evidence": {"quote": ")" + b64 + R"("}})"),
       Container::kAttestationRsTdx},
      {"attestation-rs az-tdx",
       ToBytes(R"({"platform": "az-tdx", "evidence": {"version": 1, "td_quote": ")" + b64url +
               R"("}})"),
       Container::kAttestationRsAzTdx},
      {"azure vtpm, byte array",
       ToBytes(R"({"tpm_quote": {}, "hcl_report": [], "td_quote": )" + ByteArrayJson(padded) + "}"),
       Container::kAzureTdxVtpm},
  };
  for (const Form& form : forms) {
    auto decoded = DecodeQuoteContainer(form.file);
    ASSERT_TRUE(decoded.ok()) << form.name << ": " << decoded.error();
    EXPECT_EQ(decoded->container, form.want) << form.name;
    EXPECT_EQ(QuoteIn(*decoded), quote) << form.name;
  }
}

TEST(EvidenceInputTest, RealAzureEvidenceCarriesTheSameQuoteAsTdQuoteBin) {
  const Bytes td_quote = ReadEvidence(kAzTdQuote);
  for (std::string_view path :
       {"lunal-attestation-rs/crates/attestation/test_data/az_tdx/evidence-v1.json",
        "trustee/deps/verifier/test_data/az-tdx-vtpm/evidence-v0.json",
        "trustee/deps/verifier/test_data/az-tdx-vtpm/evidence-v1.json"}) {
    auto decoded = DecodeQuoteContainer(ReadEvidence(path));
    ASSERT_TRUE(decoded.ok()) << path << ": " << decoded.error();
    EXPECT_EQ(decoded->quote, td_quote) << path;
  }
}

Status DecodeStatus(std::string_view text) { return DecodeQuoteContainer(AsBytes(text)).status(); }

TEST(EvidenceInputTest, RejectsWhatIsNotAQuoteContainer) {
  struct Case {
    std::string_view input;
    const char* want;
  };
  const Case cases[] = {
      {"", "tdx.container.empty"},
      {" \n\t ", "tdx.container.empty"},
      {"not a quote!", "tdx.container.unrecognized"},
      {"AAA*", "tdx.container.unrecognized"},
      {"[1, 2, 3]", "tdx.container.unrecognized"},  // a JSON array is no envelope
      {R"({"foo": 1})", "tdx.container.unrecognized"},
      {R"({"quote": )", "json.syntax"},
      {R"({"quote": "a", "quote": "b"})", "json.duplicate_key"},
      {R"({"quote": 7})", "json.wrong_type"},
      {R"({"quote": "not*base64"})", "base64.invalid_character"},
      {R"({"quote": "abc"})", "hex.odd_length"},
      {R"({"td_quote": [4, 0, 256]})", "tdx.container.bad_byte_array"},
      {R"({"td_quote": [4, -1]})", "tdx.container.bad_byte_array"},
      {R"({"platform": "snp", "report": "AAAA"})", "tdx.container.wrong_platform"},
      {R"({"platform": "az-snp", "evidence": {}})", "tdx.container.wrong_platform"},
      {R"({"platform": "tdx", "evidence": {"td_quote": "AAAA"}})", "json.missing_field"},
      {R"({"platform": "tdx", "evidence": "AAAA"})", "json.wrong_type"},
      {R"({"platform": 1, "quote": "AAAA"})", "json.wrong_type"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(DecodeStatus(c.input).reason(), c.want) << "input: " << c.input;
  }
}

TEST(EvidenceInputTest, UnrecognizedTextSaysWhatWasTried) {
  Status s = DecodeStatus("not a quote!");
  EXPECT_EQ(s.code(), Code::kMalformed);
  for (std::string_view tried : {"raw", "JSON", "hex", "base64"}) {
    EXPECT_NE(s.message().find(tried), std::string::npos) << s;
  }
}

TEST(EvidenceInputTest, BinaryThatIsNotAQuoteIsPassedOnForTheParserToName) {
  // An SGX v3 quote starts 03 00: not text, so "raw", and ParseQuote names the version.
  Bytes sgx = ReadEvidence(testing::Quote4Path());
  PutU16(sgx, 0, 3);
  auto decoded = DecodeQuoteContainer(sgx);
  ASSERT_TRUE(decoded.ok()) << decoded.error();
  EXPECT_EQ(decoded->container, Container::kRaw);
  EXPECT_EQ(ParseQuote(decoded->quote).status().reason(), "tdx.header.unsupported_version");
}

TEST(EvidenceInputTest, ContainerNamesAreDistinct) {
  std::set<std::string_view> names;
  for (Container c :
       {Container::kRaw, Container::kHex, Container::kBase64, Container::kLunalEnvelope,
        Container::kAttestationRsTdx, Container::kAttestationRsAzTdx, Container::kAzureTdxVtpm,
        Container::kQuoteJson}) {
    EXPECT_NE(ContainerName(c), "unknown");
    names.insert(ContainerName(c));
  }
  EXPECT_EQ(names.size(), 8u);
  EXPECT_EQ(ContainerName(Container::kAzureTdxVtpm), "azure-tdx-vtpm");
}

}  // namespace
}  // namespace lunal::attest::tdx
