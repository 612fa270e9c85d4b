#include "test_quotes.h"

#include <gtest/gtest.h>

#include "lunal/testing/testing.h"

namespace lunal::attest::tdx::testing {

namespace {
constexpr std::string_view kRs = "lunal-attestation-rs/crates/attestation/test_data/";
constexpr std::string_view kTrustee = "trustee/deps/verifier/test_data/";
constexpr std::string_view kGo = "go-tdx-guest/testing/testdata/";

std::string Cat(std::string_view a, std::string_view b) { return std::string(a) + std::string(b); }
}  // namespace

const std::vector<EvidenceQuote>& EvidenceQuotes() {
  static const auto* quotes = new std::vector<EvidenceQuote>{
      {Cat(kRs, "tdx_quote_4.dat"), Container::kRaw, 4, BodyType::kTd10, "705ee9381b8633a9", true,
       false},
      {Cat(kRs, "tdx_quote_5.dat"), Container::kRaw, 5, BodyType::kTd15, "dfba221b48a22af8", false,
       false},
      {Cat(kRs, "tdx_quote_live.dat"), Container::kRaw, 4, BodyType::kTd10, "eea8b6a814569a52",
       false, false},
      {Cat(kRs, "az_tdx/td-quote.bin"), Container::kRaw, 4, BodyType::kTd10, "024a32b070383331",
       false, false},
      {Cat(kRs, "az_tdx/evidence-v1.json"), Container::kAttestationRsAzTdx, 4, BodyType::kTd10,
       "024a32b070383331", false, false},
      {Cat(kRs, "az_tdx/live-evidence.json"), Container::kAzureTdxVtpm, 4, BodyType::kTd10,
       "273828c46252fcbd", false, false},
      {Cat(kTrustee, "tdx_quote_4.dat"), Container::kRaw, 4, BodyType::kTd10, "705ee9381b8633a9",
       true, false},
      {Cat(kTrustee, "tdx_quote_5.dat"), Container::kRaw, 5, BodyType::kTd15, "dfba221b48a22af8",
       false, false},
      {Cat(kTrustee, "tdx_quote_6.dat"), Container::kRaw, 4, BodyType::kTd10, "21e8dead92d6c69d",
       false, false},
      {Cat(kTrustee, "az-tdx-vtpm/evidence-v0.json"), Container::kAzureTdxVtpm, 4, BodyType::kTd10,
       "024a32b070383331", false, false},
      {Cat(kTrustee, "az-tdx-vtpm/evidence-v1.json"), Container::kAzureTdxVtpm, 4, BodyType::kTd10,
       "024a32b070383331", false, false},
      {Cat(kGo, "quote_v5_sample.dat"), Container::kRaw, 5, BodyType::kTd15, "7348651a34b2d2d3",
       false, false},
      // go-tdx-guest appended "\nextra bytes(only for testing purpose)\n" to this quote.
      {Cat(kGo, "tdx_prod_quote_SPR_E4.dat"), Container::kRaw, 4, BodyType::kTd10,
       "6363b8043668a3ad", false, true},
      {Cat(kGo, "ccel/cos-113-tdx-quote.dat"), Container::kRaw, 4, BodyType::kTd10,
       "dae67181d3d65e07", false, false},
  };
  return *quotes;
}

Bytes ReadEvidence(std::string_view path) {
  return lunal::testing::ReadFileBytes(lunal::testing::SharedDir() / "evidence" / path);
}

std::string_view Quote4Path() {
  return "lunal-attestation-rs/crates/attestation/test_data/tdx_quote_4.dat";
}
std::string_view Quote5Path() {
  return "lunal-attestation-rs/crates/attestation/test_data/tdx_quote_5.dat";
}

Offsets OffsetsOf(const QuoteView& view, ByteSpan base) {
  auto at = [&](const std::uint8_t* p) { return static_cast<std::size_t>(p - base.data()); };
  Offsets o{};
  o.body = at(view.body.raw.data());
  o.body_end = o.body + view.body.raw.size();
  o.sig_data = o.body_end + 4;
  o.cert_header = at(view.signature.data()) + 128;
  o.qe_report = at(view.qe_report.raw.data());
  o.auth_size = at(view.qe_report_signature.data()) + 64;
  o.nested_header = at(view.qe_auth_data.data()) + view.qe_auth_data.size();
  o.pem = at(view.pck_cert_chain_data.data());
  o.end = at(view.quote.data()) + view.quote.size();
  return o;
}

std::uint32_t GetU32(const Bytes& bytes, std::size_t offset) {
  return static_cast<std::uint32_t>(bytes.at(offset)) |
         static_cast<std::uint32_t>(bytes.at(offset + 1)) << 8 |
         static_cast<std::uint32_t>(bytes.at(offset + 2)) << 16 |
         static_cast<std::uint32_t>(bytes.at(offset + 3)) << 24;
}

void PutU16(Bytes& bytes, std::size_t offset, std::uint16_t value) {
  bytes.at(offset) = static_cast<std::uint8_t>(value);
  bytes.at(offset + 1) = static_cast<std::uint8_t>(value >> 8);
}

void PutU32(Bytes& bytes, std::size_t offset, std::uint32_t value) {
  for (std::size_t i = 0; i < 4; ++i)
    bytes.at(offset + i) = static_cast<std::uint8_t>(value >> (8 * i));
}

std::size_t CountPemCertificates(std::string_view pem) {
  std::size_t count = 0;
  for (std::size_t pos = pem.find("-----BEGIN CERTIFICATE-----"); pos != std::string_view::npos;
       pos = pem.find("-----BEGIN CERTIFICATE-----", pos + 1)) {
    ++count;
  }
  return count;
}

}  // namespace lunal::attest::tdx::testing
