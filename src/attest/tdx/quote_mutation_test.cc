// Boundary and mutation tests on real quotes (a v4/TD1.0 and a v5/TD1.5 one): truncation at every
// byte, inflated and deflated length fields, changed versions and types, padding. Offsets come
// from parsing the original, never from hand-typed numbers.
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "lunal/attest/tdx/quote.h"
#include "test_quotes.h"

namespace lunal::attest::tdx {
namespace {

using testing::GetU32;
using testing::PutU16;
using testing::PutU32;

class QuoteMutationTest : public ::testing::TestWithParam<std::string_view> {
 protected:
  void SetUp() override {
    original_ = testing::ReadEvidence(GetParam());
    auto parsed = ParseQuote(original_);
    ASSERT_TRUE(parsed.ok()) << parsed.error();
    ASSERT_TRUE(parsed->trailing.empty()) << "pick an unpadded quote";
    off_ = testing::OffsetsOf(*parsed, original_);
    version_ = parsed->header.version;
    pem_ = std::string(parsed->pck_cert_chain_pem);
  }

  // The structures in order, each with its end offset: a quote cut before a structure's end
  // fails with "<structure>.truncated" once the enclosing lengths are fixed up (CutAndFix).
  std::vector<std::pair<std::size_t, std::string>> Boundaries() const {
    std::vector<std::pair<std::size_t, std::string>> b = {{48, "tdx.header"}};
    if (version_ == 5) b.emplace_back(54, "tdx.body_descriptor");
    b.insert(b.end(), {{off_.body_end, "tdx.body"},
                       {off_.sig_data, "tdx.signature_data_len"},
                       {off_.sig_data + 64, "tdx.quote_signature"},
                       {off_.sig_data + 128, "tdx.attestation_key"},
                       {off_.qe_report, "tdx.cert_data.header"},
                       {off_.qe_report + 384, "tdx.qe_report"},
                       {off_.auth_size, "tdx.qe_report_signature"},
                       {off_.auth_size + 2, "tdx.qe_auth_data.size"},
                       {off_.nested_header, "tdx.qe_auth_data"},
                       {off_.pem, "tdx.qe_cert_data.header"},
                       {off_.end, "tdx.qe_cert_data"}});
    return b;
  }

  // The first `cut` bytes, with the signature data length and the outer certification data
  // size shrunk to what is left, so the innermost structure the cut falls in is the one short.
  Bytes CutAndFix(std::size_t cut) const {
    Bytes b(original_.begin(), original_.begin() + static_cast<std::ptrdiff_t>(cut));
    if (cut >= off_.sig_data)
      PutU32(b, off_.body_end, static_cast<std::uint32_t>(cut - off_.sig_data));
    if (cut >= off_.qe_report) {
      PutU32(b, off_.cert_header + 2, static_cast<std::uint32_t>(cut - off_.qe_report));
    }
    return b;
  }

  Bytes original_;
  testing::Offsets off_{};
  std::uint16_t version_ = 0;
  std::string pem_;
};

Status ParseStatus(const Bytes& bytes) { return ParseQuote(bytes).status(); }

TEST_P(QuoteMutationTest, ExactlyMinimalParses) {
  EXPECT_TRUE(ParseStatus(CutAndFix(off_.end)).ok());
  EXPECT_EQ(off_.end, original_.size());
}

TEST_P(QuoteMutationTest, TruncationAtEveryByteNamesTheStructure) {
  const auto boundaries = Boundaries();
  for (std::size_t cut = 0; cut < off_.end; ++cut) {
    std::string want;
    for (const auto& [end, name] : boundaries) {
      if (cut < end) {
        want = name + ".truncated";
        break;
      }
    }
    Status s = ParseStatus(CutAndFix(cut));
    ASSERT_EQ(s.reason(), want) << "cut at " << cut << ": " << s;
    ASSERT_EQ(s.code(), Code::kMalformed);
  }
}

TEST_P(QuoteMutationTest, OneShortAtEachBoundary) {
  for (const auto& [end, name] : Boundaries()) {
    EXPECT_EQ(ParseStatus(CutAndFix(end - 1)).reason(), name + ".truncated") << name;
  }
}

struct LengthCase {
  const char* name;
  std::size_t testing::Offsets::*field;  // where the length field is
  std::size_t delta;                     // added to that offset
  bool u16;
  std::int64_t change;  // added to the value; 0 = set to the maximum
  const char* want;
};

TEST_P(QuoteMutationTest, LengthFieldsThatPointPastTheirContainer) {
  const LengthCase cases[] = {
      {"sig_len+1", &testing::Offsets::body_end, 0, false, 1, "tdx.signature_data.truncated"},
      {"sig_len=max", &testing::Offsets::body_end, 0, false, 0, "tdx.signature_data.truncated"},
      {"sig_len-1", &testing::Offsets::body_end, 0, false, -1, "tdx.cert_data.truncated"},
      {"cert_size+1", &testing::Offsets::cert_header, 2, false, 1, "tdx.cert_data.truncated"},
      {"cert_size=max", &testing::Offsets::cert_header, 2, false, 0, "tdx.cert_data.truncated"},
      {"cert_size-1", &testing::Offsets::cert_header, 2, false, -1,
       "tdx.signature_data.trailing_bytes"},
      {"auth_size=max", &testing::Offsets::auth_size, 0, true, 0, "tdx.qe_auth_data.truncated"},
      {"pem_size+1", &testing::Offsets::nested_header, 2, false, 1, "tdx.qe_cert_data.truncated"},
      {"pem_size=max", &testing::Offsets::nested_header, 2, false, 0, "tdx.qe_cert_data.truncated"},
      {"pem_size-1", &testing::Offsets::nested_header, 2, false, -1,
       "tdx.cert_data.trailing_bytes"},
  };
  for (const LengthCase& c : cases) {
    Bytes b = original_;
    const std::size_t at = off_.*c.field + c.delta;
    if (c.u16) {
      PutU16(b, at, 0xffff);
    } else {
      const std::uint32_t v = GetU32(b, at);
      PutU32(b, at, c.change == 0 ? 0xffffffffu : static_cast<std::uint32_t>(v + c.change));
    }
    Status s = ParseStatus(b);
    EXPECT_EQ(s.reason(), c.want) << c.name << ": " << s;
    EXPECT_EQ(s.code(), Code::kMalformed) << c.name;
  }
}

TEST_P(QuoteMutationTest, ALengthThatClaimsMoreThanItsContentsUse) {
  // Signature data one byte longer than its parts: the extra byte is inside it, not padding.
  Bytes sig = original_;
  PutU32(sig, off_.body_end, GetU32(sig, off_.body_end) + 1);
  sig.push_back(0);
  EXPECT_EQ(ParseStatus(sig).reason(), "tdx.signature_data.trailing_bytes");
  // Certification data (and the signature data around it) one byte longer than its parts.
  Bytes cert = sig;
  PutU32(cert, off_.cert_header + 2, GetU32(cert, off_.cert_header + 2) + 1);
  EXPECT_EQ(ParseStatus(cert).reason(), "tdx.cert_data.trailing_bytes");
}

TEST_P(QuoteMutationTest, UnsupportedVersionsAndTypes) {
  struct Case {
    const char* name;
    std::size_t offset;
    bool u16;
    std::uint32_t value;
    Code code;
    const char* want;
  };
  std::vector<Case> cases = {
      {"version 3", 0, true, 3, Code::kUnsupported, "tdx.header.unsupported_version"},
      {"version 6", 0, true, 6, Code::kUnsupported, "tdx.header.unsupported_version"},
      {"key type 3 (P-384)", 2, true, 3, Code::kUnsupported, "tdx.header.unsupported_key_type"},
      {"tee type SGX", 4, false, 0, Code::kUnsupported, "tdx.header.not_tdx"},
      {"tee type 0x82", 4, false, 0x82, Code::kUnsupported, "tdx.header.not_tdx"},
      {"cert type 5", off_.cert_header, true, 5, Code::kUnsupported,
       "tdx.cert_data.unsupported_type"},
      {"cert type 7", off_.cert_header, true, 7, Code::kUnsupported,
       "tdx.cert_data.unsupported_type"},
      {"nested type 6", off_.nested_header, true, 6, Code::kUnsupported,
       "tdx.qe_cert_data.unsupported_type"},
      {"nested type 1", off_.nested_header, true, 1, Code::kUnsupported,
       "tdx.qe_cert_data.unsupported_type"},
  };
  if (version_ == 5) {
    cases.push_back(
        {"body type 1 (SGX)", 48, true, 1, Code::kUnsupported, "tdx.body.unsupported_type"});
    cases.push_back({"body type 4", 48, true, 4, Code::kUnsupported, "tdx.body.unsupported_type"});
    cases.push_back(
        {"body type 2, size 648", 48, true, 2, Code::kMalformed, "tdx.body.size_mismatch"});
    cases.push_back({"body size 649", 50, false, 649, Code::kMalformed, "tdx.body.size_mismatch"});
    cases.push_back(
        {"body size max", 50, false, 0xffffffff, Code::kMalformed, "tdx.body.size_mismatch"});
  }
  for (const Case& c : cases) {
    Bytes b = original_;
    if (c.u16) {
      PutU16(b, c.offset, static_cast<std::uint16_t>(c.value));
    } else {
      PutU32(b, c.offset, c.value);
    }
    Status s = ParseStatus(b);
    EXPECT_EQ(s.reason(), c.want) << c.name << ": " << s;
    EXPECT_EQ(s.code(), c.code) << c.name;
  }
}

TEST_P(QuoteMutationTest, ZeroPaddingIsAcceptedAndNothingElse) {
  for (std::size_t pad : {1u, 70u, 3065u}) {
    Bytes b = original_;
    b.resize(b.size() + pad, 0);
    auto q = ParseQuote(b);
    ASSERT_TRUE(q.ok()) << pad << ": " << q.error();
    EXPECT_EQ(q->quote.size(), original_.size());
    EXPECT_EQ(q->trailing.size(), pad);
  }
  Bytes b = original_;
  b.resize(b.size() + 16, 0);
  b.push_back(0x01);
  auto strict = ParseQuote(b);
  ASSERT_FALSE(strict.ok());
  EXPECT_EQ(strict.error().reason(), "tdx.quote.trailing_bytes");
  EXPECT_NE(strict.error().message().find(std::to_string(original_.size() + 16)),
            std::string::npos)
      << strict.error();  // names the offset of the first non-zero byte
  auto lenient = ParseQuote(b, {.trailing = ParseOptions::Trailing::kIgnore});
  ASSERT_TRUE(lenient.ok()) << lenient.error();
  EXPECT_EQ(lenient->trailing.size(), 17u);
}

TEST_P(QuoteMutationTest, PemTextWithAndWithoutItsNul) {
  // Intel's QE ends the chain with a NUL; without it the PEM text is the same.
  ASSERT_EQ(original_.back(), 0);
  Bytes b(original_.begin(), original_.end() - 1);
  PutU32(b, off_.body_end, GetU32(b, off_.body_end) - 1);
  PutU32(b, off_.cert_header + 2, GetU32(b, off_.cert_header + 2) - 1);
  PutU32(b, off_.nested_header + 2, GetU32(b, off_.nested_header + 2) - 1);
  auto q = ParseQuote(b);
  ASSERT_TRUE(q.ok()) << q.error();
  EXPECT_EQ(q->pck_cert_chain_pem, pem_);
  EXPECT_EQ(q->pck_cert_chain_data.size() + 1, original_.size() - off_.pem);

  Bytes nul = original_;
  nul.at(off_.pem + 10) = 0;
  EXPECT_EQ(ParseStatus(nul).reason(), "tdx.pck_cert_chain.embedded_nul");
}

TEST_P(QuoteMutationTest, MessagesNameOffsets) {
  Status s = ParseStatus(CutAndFix(off_.qe_report + 100));
  EXPECT_EQ(s.reason(), "tdx.qe_report.truncated");
  EXPECT_NE(s.message().find("need 384 bytes at offset " + std::to_string(off_.qe_report)),
            std::string::npos)
      << s;
}

INSTANTIATE_TEST_SUITE_P(RealQuotes, QuoteMutationTest,
                         ::testing::Values(testing::Quote4Path(), testing::Quote5Path()),
                         [](const auto& param_info) {
                           return param_info.param == testing::Quote4Path() ? std::string("V4Td10")
                                                                            : std::string("V5Td15");
                         });

}  // namespace
}  // namespace lunal::attest::tdx
