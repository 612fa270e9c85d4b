// The verifier-level mutation table: real TDX quotes (v4 and v5) mutated one way at a time and
// run through the whole Verifier::Verify pipeline against the shared collateral pool, at each
// quote's as-of time (where the unmutated quote gives its README verdict). Every row names the
// mutation, computes where it applies from a parsed QuoteView (or from a certificate's own DER),
// and expects one exact reason and the code that goes with it. Nothing may crash (the suite also
// runs under ASan and UBSan).
//
// Tables:
//   1. a flipped byte in every field of the header, the body, the signature data, the QE report,
//      the QE report signature, the QE auth data and the certification data headers;
//   2. each certificate of the PCK chain (leaf, PCK CA, root): a byte of its TBS (serial, issuer,
//      subject key, and the leaf's FMSPC) and of its signature, re-encoded in place;
//   3. truncation at every structure boundary (lengths fixed up, and not);
//   4. length fields pointing past the end (and one short);
//   5. a chain re-rooted at Intel's test root, a chain without its root, and a whole fake "Intel"
//      chain in which every signature holds: only the pinned root stops it (and a control where
//      the fake root is pinned shows the quote then verifies, so nothing else was stopping it);
//   6. expired collateral, and an expired PCK leaf.
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "lunal/attest/tdx/collateral_pool.h"
#include "lunal/attest/tdx/evidence_input.h"
#include "lunal/attest/tdx/pck_extensions.h"
#include "lunal/attest/tdx/quote_layout.h"
#include "lunal/attest/tdx/signatures.h"
#include "lunal/attest/tdx/verify.h"
#include "lunal/common/encoding.h"
#include "lunal/crypto/chain.h"
#include "lunal/testing/testing.h"
#include "test_pool.h"
#include "test_quotes.h"
#include "verify_mutation_helpers.h"

namespace lunal::attest::tdx {
namespace {

namespace L = layout;
using testing::FakeIntelPki;
using testing::GetU32;
using testing::PutU16;
using testing::PutU32;

struct QuoteCase {
  const char* name;  // gtest parameter name
  const char* path;  // under ../shared/evidence
  const char* as_of;
  const char* verdict;  // nullptr: accepted; else the reason of the unmutated quote
};

// Rows of ../shared/evidence/README.md "Expected results" with as-of times (verify_test.cc).
const QuoteCase kQuotes[] = {
    {"AttestationRsV4", "lunal-attestation-rs/crates/attestation/test_data/tdx_quote_4.dat",
     "2026-03-31T22:25:04Z", nullptr},
    {"AzureV4", "lunal-attestation-rs/crates/attestation/test_data/az_tdx/td-quote.bin",
     "2025-10-01T00:34:24Z", nullptr},
    {"AzureLiveV4", "lunal-attestation-rs/crates/attestation/test_data/az_tdx/live-evidence.json",
     "2026-03-31T22:20:07Z", nullptr},
    {"GoTdxGuestV5", "go-tdx-guest/testing/testdata/quote_v5_sample.dat", "2026-03-31T22:20:07Z",
     nullptr},
    {"CcelV4", "go-tdx-guest/testing/testdata/ccel/cos-113-tdx-quote.dat", "2025-10-01T00:34:24Z",
     nullptr},
    // Verifies every signature but its TCB matches no level: mutations must fail before that.
    {"AttestationRsV5NotSupported",
     "lunal-attestation-rs/crates/attestation/test_data/tdx_quote_5.dat", "2026-03-31T22:20:07Z",
     "tdx.tcb.not_supported"},
};

void PrintTo(const QuoteCase& quote, std::ostream* os) { *os << quote.path; }

std::shared_ptr<const CollateralPool> SharedPool() { return testing::SharedEvidencePool(); }

// The code that goes with each reason: structure → kMalformed / kUnsupported, missing or stale
// collateral → kUnavailable, every broken signature, chain or binding → kVerificationFailed.
Code CodeOf(std::string_view reason) {
  for (std::string_view suffix :
       {".truncated", ".trailing_bytes", ".size_mismatch", ".parse_failed", ".embedded_nul"}) {
    if (reason.ends_with(suffix)) return Code::kMalformed;
  }
  for (std::string_view suffix : {".unsupported_version", ".unsupported_key_type", ".not_tdx",
                                  ".unsupported_type", ".unknown_qe_vendor"}) {
    if (reason.ends_with(suffix)) return Code::kUnsupported;
  }
  if (reason.starts_with("tdx.collateral.")) return Code::kUnavailable;
  return Code::kVerificationFailed;
}

std::size_t At(ByteSpan field, ByteSpan base, std::size_t index = 0) {
  return static_cast<std::size_t>(field.data() - base.data()) + index;
}

// A named mutation of the original quote and the one reason it must fail with.
struct Row {
  std::string name;
  Bytes quote;
  std::string reason;
};

class VerifyMutationTest : public ::testing::TestWithParam<QuoteCase> {
 protected:
  void SetUp() override {
    ASSERT_NE(SharedPool(), nullptr);
    auto decoded = DecodeQuoteContainer(testing::ReadEvidence(GetParam().path));
    ASSERT_TRUE(decoded.ok()) << decoded.error();
    // Exactly the quote, without container padding, so length edits are not absorbed by it.
    auto padded = ParseQuote(decoded->quote, {.trailing = ParseOptions::Trailing::kIgnore});
    ASSERT_TRUE(padded.ok()) << padded.error();
    original_.assign(padded->quote.begin(), padded->quote.end());
    auto view = ParseQuote(original_);
    ASSERT_TRUE(view.ok()) << view.error();
    view_.emplace(*view);
    off_ = testing::OffsetsOf(*view_, original_);
    auto chain = ParsePckChain(*view_);
    ASSERT_TRUE(chain.ok()) << chain.error();
    chain_.emplace(*chain);
    as_of_ = *ParseRfc3339(GetParam().as_of);
    verifier_ = std::make_unique<Verifier>(SharedPool());
  }

  void TearDown() override {
    // The mutations went through the same Verifier: its caches must not have been poisoned.
    if (verifier_ && view_) ExpectVerdict("unmutated, after the mutations", original_);
  }

  void ExpectReason(const Verifier& verifier, Timestamp as_of, const Row& row) const {
    auto result = verifier.Verify(row.quote, {.as_of = as_of});
    if (result.ok()) {
      ADD_FAILURE() << row.name << ": ACCEPTED, expected " << row.reason << "\n"
                    << result->ToJson().dump();
      return;
    }
    EXPECT_EQ(result.error().reason(), row.reason) << row.name << ": " << result.error();
    EXPECT_EQ(result.error().code(), CodeOf(row.reason)) << row.name << ": " << result.error();
  }
  void ExpectReason(const Row& row) const { ExpectReason(*verifier_, as_of_, row); }
  void ExpectAll(const std::vector<Row>& rows) const {
    for (const Row& row : rows) ExpectReason(row);
  }

  // The README verdict of the unmutated quote.
  void ExpectVerdict(std::string_view name, const Bytes& quote) const {
    auto result = verifier_->Verify(quote, {.as_of = as_of_});
    if (GetParam().verdict == nullptr) {
      EXPECT_TRUE(result.ok()) << name << ": " << result.error();
    } else {
      ASSERT_FALSE(result.ok()) << name;
      EXPECT_EQ(result.error().reason(), GetParam().verdict) << name << ": " << result.error();
    }
  }

  Bytes Flipped(std::size_t offset, std::uint8_t mask = 0x01) const {
    Bytes b = original_;
    b.at(offset) ^= mask;
    return b;
  }
  // Rows flipping the first and the last byte of `field`.
  void FlipEnds(std::vector<Row>& rows, const std::string& name, ByteSpan field,
                const std::string& reason) const {
    rows.push_back({name + "[0]", Flipped(At(field, original_)), reason});
    rows.push_back({name + "[last]", Flipped(At(field, original_, field.size() - 1)), reason});
  }

  // The structures in order with their end offsets (as quote_mutation_test.cc), for truncation.
  std::vector<std::pair<std::size_t, std::string>> Boundaries() const {
    std::vector<std::pair<std::size_t, std::string>> b = {{L::header::kSize, "tdx.header"}};
    if (view_->header.version == L::kVersion5) {
      b.emplace_back(At(view_->body.raw, original_), "tdx.body_descriptor");
    }
    b.insert(b.end(),
             {{off_.body_end, "tdx.body"},
              {off_.sig_data, "tdx.signature_data_len"},
              {At(view_->signature, original_) + 64, "tdx.quote_signature"},
              {At(view_->attestation_key, original_) + 64, "tdx.attestation_key"},
              {off_.qe_report, "tdx.cert_data.header"},
              {off_.qe_report + view_->qe_report.raw.size(), "tdx.qe_report"},
              {off_.auth_size, "tdx.qe_report_signature"},
              {off_.auth_size + L::qe_report_cert_data::kAuthDataSizeSize, "tdx.qe_auth_data.size"},
              {off_.nested_header, "tdx.qe_auth_data"},
              {off_.pem, "tdx.qe_cert_data.header"},
              {off_.end, "tdx.qe_cert_data"}});
    return b;
  }

  // The first `cut` bytes with the signature data length and the outer certification data size
  // shrunk to what is left, so the innermost structure the cut falls in is the one short.
  Bytes CutAndFix(std::size_t cut) const {
    Bytes b(original_.begin(), original_.begin() + static_cast<std::ptrdiff_t>(cut));
    if (cut >= off_.sig_data) {
      PutU32(b, off_.body_end, static_cast<std::uint32_t>(cut - off_.sig_data));
    }
    if (cut >= off_.qe_report) {
      PutU32(b, off_.cert_header + 2, static_cast<std::uint32_t>(cut - off_.qe_report));
    }
    return b;
  }

  std::string ChainText() const { return std::string(AsStringView(view_->pck_cert_chain_data)); }

  Bytes original_;
  std::optional<QuoteView> view_;
  testing::Offsets off_{};
  std::optional<PckChain> chain_;
  Timestamp as_of_;
  std::unique_ptr<Verifier> verifier_;
};

TEST_P(VerifyMutationTest, UnmutatedQuoteGivesItsVerdict) {
  ExpectVerdict("unmutated", original_);
  ASSERT_GE(testing::CountPemCertificates(view_->pck_cert_chain_pem), 3u);
}

// 1. One flipped byte in each field.
TEST_P(VerifyMutationTest, FlippedByteInEachField) {
  const QuoteView& q = *view_;
  const ByteSpan h = q.header.raw;
  std::vector<Row> rows = {
      // The header: what the parser checks, what the verifier checks, what only the signature
      // covers.
      {"header.version (high byte)", Flipped(At(h, original_, L::header::kVersion.offset + 1)),
       "tdx.header.unsupported_version"},
      {"header.att_key_type", Flipped(At(h, original_, L::header::kAttKeyType.offset)),
       "tdx.header.unsupported_key_type"},
      {"header.tee_type", Flipped(At(h, original_, L::header::kTeeType.offset)),
       "tdx.header.not_tdx"},
      {"header.qe_svn[0]", Flipped(At(h, original_, L::header::kQeSvn.offset)),
       "tdx.quote.signature_invalid"},
      {"header.qe_svn[1]", Flipped(At(h, original_, L::header::kQeSvn.offset + 1)),
       "tdx.quote.signature_invalid"},
      {"header.pce_svn[0]", Flipped(At(h, original_, L::header::kPceSvn.offset)),
       "tdx.quote.signature_invalid"},
      {"header.pce_svn[1]", Flipped(At(h, original_, L::header::kPceSvn.offset + 1)),
       "tdx.quote.signature_invalid"},
  };
  FlipEnds(rows, "header.qe_vendor_id", q.header.qe_vendor_id, "tdx.header.unknown_qe_vendor");
  FlipEnds(rows, "header.user_data", q.header.user_data, "tdx.quote.signature_invalid");
  if (q.header.version == L::kVersion5) {
    const std::size_t desc = At(q.body.raw, original_) - L::body_descriptor::kTotal;
    // TD1.5 (3) becomes TD1.0 (2): the descriptor's size no longer matches the type.
    rows.push_back({"body_descriptor.type ^1", Flipped(desc + L::body_descriptor::kType.offset),
                    "tdx.body.size_mismatch"});
    rows.push_back({"body_descriptor.type ^4",
                    Flipped(desc + L::body_descriptor::kType.offset, 0x04),
                    "tdx.body.unsupported_type"});
    rows.push_back({"body_descriptor.size", Flipped(desc + L::body_descriptor::kSize.offset),
                    "tdx.body.size_mismatch"});
  }

  // Every field of the TD report body is covered by the quote signature.
  const TdReportBody& b = q.body;
  const std::string sig = "tdx.quote.signature_invalid";
  FlipEnds(rows, "body.tee_tcb_svn", b.tee_tcb_svn, sig);
  FlipEnds(rows, "body.mr_seam", b.mr_seam, sig);
  FlipEnds(rows, "body.mr_signer_seam", b.mr_signer_seam, sig);
  FlipEnds(rows, "body.seam_attributes", b.seam_attributes, sig);
  FlipEnds(rows, "body.td_attributes", b.td_attributes.raw, sig);
  FlipEnds(rows, "body.xfam", b.xfam, sig);
  FlipEnds(rows, "body.mr_td", b.mr_td, sig);
  FlipEnds(rows, "body.mr_config_id", b.mr_config_id, sig);
  FlipEnds(rows, "body.mr_owner", b.mr_owner, sig);
  FlipEnds(rows, "body.mr_owner_config", b.mr_owner_config, sig);
  for (std::size_t i = 0; i < 4; ++i) {
    FlipEnds(rows, "body.rtmr" + std::to_string(i), b.rtmr[i], sig);
  }
  FlipEnds(rows, "body.report_data", b.report_data, sig);
  if (b.type == BodyType::kTd15) {
    ASSERT_TRUE(b.tee_tcb_svn_2 && b.mr_service_td);
    FlipEnds(rows, "body.tee_tcb_svn_2", *b.tee_tcb_svn_2, sig);
    FlipEnds(rows, "body.mr_service_td", *b.mr_service_td, sig);
  }

  // The quote signature (r, then s) and the attestation key (x, then y). A changed coordinate
  // leaves P-256 (the point is no longer on the curve).
  FlipEnds(rows, "signature.r", q.signature.first(32), sig);
  FlipEnds(rows, "signature.s", q.signature.last(32), sig);
  FlipEnds(rows, "attestation_key.x", q.attestation_key.first(32), "tdx.attestation_key.invalid");
  FlipEnds(rows, "attestation_key.y", q.attestation_key.last(32), "tdx.attestation_key.invalid");

  // Certification data type 6 header: its type (the size is table 4).
  rows.push_back({"cert_data.type", Flipped(off_.cert_header + L::cert_data::kType.offset),
                  "tdx.cert_data.unsupported_type"});

  // Every field of the QE report is covered by the PCK key's signature.
  const QeReport& r = q.qe_report;
  const std::string qe_sig = "tdx.qe_report.signature_invalid";
  auto qe_field = [&](const std::string& name, L::Field f) {
    FlipEnds(rows, "qe_report." + name, r.raw.subspan(f.offset, f.size), qe_sig);
  };
  qe_field("cpu_svn", L::qe_report::kCpuSvn);
  qe_field("misc_select", L::qe_report::kMiscSelect);
  qe_field("reserved1", L::qe_report::kReserved1);
  qe_field("isv_ext_prod_id", L::qe_report::kIsvExtProdId);
  qe_field("attributes", L::qe_report::kAttributes);
  qe_field("mr_enclave", L::qe_report::kMrEnclave);
  qe_field("reserved2", L::qe_report::kReserved2);
  qe_field("mr_signer", L::qe_report::kMrSigner);
  qe_field("reserved3", L::qe_report::kReserved3);
  qe_field("config_id", L::qe_report::kConfigId);
  qe_field("isv_prod_id", L::qe_report::kIsvProdId);
  qe_field("isv_svn", L::qe_report::kIsvSvn);
  qe_field("config_svn", L::qe_report::kConfigSvn);
  qe_field("reserved4", L::qe_report::kReserved4);
  qe_field("isv_family_id", L::qe_report::kIsvFamilyId);
  FlipEnds(rows, "qe_report.report_data[0:32]", r.report_data.first(32), qe_sig);
  FlipEnds(rows, "qe_report.report_data[32:64]", r.report_data.last(32), qe_sig);
  FlipEnds(rows, "qe_report_signature.r", q.qe_report_signature.first(32), qe_sig);
  FlipEnds(rows, "qe_report_signature.s", q.qe_report_signature.last(32), qe_sig);

  // QE authentication data: hashed with the attestation key into the QE report data.
  ASSERT_FALSE(q.qe_auth_data.empty());
  FlipEnds(rows, "qe_auth_data", q.qe_auth_data, "tdx.qe_report.attestation_key_binding");

  // Nested certification data type 5: its type, and the PEM text around the certificates.
  rows.push_back({"qe_cert_data.type", Flipped(off_.nested_header + L::cert_data::kType.offset),
                  "tdx.qe_cert_data.unsupported_type"});
  rows.push_back({"pck_chain BEGIN line", Flipped(off_.pem), "tdx.pck_chain.parse_failed"});
  if (q.pck_cert_chain_data.back() == 0) {
    // The trailing NUL becomes a 0x01 after the last END line: not PEM.
    rows.push_back({"pck_chain trailing NUL", Flipped(off_.end - 1), "tdx.pck_chain.parse_failed"});
  }
  ExpectAll(rows);
}

// 2. Each certificate of the PCK chain: one byte of its TBS and one of its signature, the
// certificate re-encoded in place (same DER length, so no length field changes).
TEST_P(VerifyMutationTest, EachCertificateTbsAndSignature) {
  const std::vector<testing::PemBlock> blocks = testing::PemBlocks(view_->pck_cert_chain_pem);
  ASSERT_EQ(blocks.size(), 3u);
  auto cert_row = [&](const std::string& name, std::size_t index, std::size_t der_offset,
                      const std::string& reason) {
    Bytes der = blocks[index].der;
    EXPECT_LT(der_offset, der.size()) << name;
    der.at(der_offset) ^= 0x01;
    return Row{name, testing::ReplaceCertificateInPlace(original_, *view_, index, der), reason};
  };
  const Bytes& leaf = blocks[0].der;
  const Bytes& ca = blocks[1].der;
  const Bytes& root = blocks[2].der;
  auto fmspc_at = testing::FmspcOffset(
      leaf, ParsePckExtensions(*chain_->leaf.Extension(kSgxExtensionOid))->fmspc);
  ASSERT_TRUE(fmspc_at.has_value());

  std::vector<Row> rows = {
      // The leaf (PCK certificate), signed by the PCK CA.
      cert_row("leaf.tbs.serial", 0, testing::SerialLastByte(leaf),
               "tdx.pck_chain.signature_invalid"),
      // The leaf's key (y flipped: no longer a P-256 point). KNOWN BUG, this row fails until
      // verify.cc is fixed: step 4 reads the key of the not yet verified leaf and returns
      // crypto's "crypto.key.unsupported_type" (kUnsupported: outside the tdx.* namespace, and
      // "unsupported" for what is a corrupted certificate). Validating the chain first gives
      // OpenSSL's verdict on a certificate whose key does not decode: tdx.pck_chain.invalid.
      cert_row("leaf.tbs.subject_key", 0, testing::SubjectKeyLastByte(leaf),
               "tdx.pck_chain.invalid"),
      // "C=US" becomes "C=UR": the PCK CA's CN is still found, but no CA has that name.
      cert_row("leaf.tbs.issuer", 0, testing::IssuerLastByte(leaf), "tdx.pck_chain.no_path"),
      // The FMSPC inside the SGX extension. KNOWN BUG, this row fails until verify.cc is fixed:
      // step 5 selects collateral by the FMSPC of the not yet verified leaf (step 6), so the
      // forged FMSPC is reported as "tdx.collateral.unavailable" (kUnavailable, "retry may
      // help") instead of the leaf's broken signature.
      cert_row("leaf.tbs.sgx_extension.fmspc", 0, *fmspc_at, "tdx.pck_chain.signature_invalid"),
      cert_row("leaf.signature", 0, leaf.size() - 1, "tdx.pck_chain.signature_invalid"),
      // The PCK CA, signed by the root.
      cert_row("pck_ca.tbs.serial", 1, testing::SerialLastByte(ca),
               "tdx.pck_chain.signature_invalid"),
      // A CA whose key does not decode is no issuer for the leaf: OpenSSL finds no path.
      cert_row("pck_ca.tbs.subject_key", 1, testing::SubjectKeyLastByte(ca),
               "tdx.pck_chain.no_path"),
      cert_row("pck_ca.tbs.issuer", 1, testing::IssuerLastByte(ca), "tdx.pck_chain.no_path"),
      cert_row("pck_ca.signature", 1, ca.size() - 1, "tdx.pck_chain.signature_invalid"),
      // The root: any change makes it another certificate than the pinned one.
      cert_row("root.tbs.serial", 2, testing::SerialLastByte(root), "tdx.pck_chain.untrusted_root"),
      cert_row("root.tbs.subject_key", 2, testing::SubjectKeyLastByte(root),
               "tdx.pck_chain.untrusted_root"),
      cert_row("root.signature", 2, root.size() - 1, "tdx.pck_chain.untrusted_root"),
  };
  for (const Row& row : rows) EXPECT_EQ(row.quote.size(), original_.size()) << row.name;
  ExpectAll(rows);
}

// 3. Truncation at every structure boundary: one byte short of its end and cut at its start,
// with the enclosing lengths fixed up (the structure's own reason), and plain cuts (the first
// length that no longer fits).
TEST_P(VerifyMutationTest, TruncationAtEachBoundary) {
  std::vector<Row> rows;
  std::size_t start = 0;
  for (const auto& [end, name] : Boundaries()) {
    const std::string want = name + ".truncated";
    rows.push_back({name + ": one byte short, fixed up", CutAndFix(end - 1), want});
    if (start + 1 < end)
      rows.push_back({name + ": cut at its start, fixed up", CutAndFix(start), want});
    rows.push_back(
        {name + ": one byte short",
         Bytes(original_.begin(), original_.begin() + static_cast<std::ptrdiff_t>(end - 1)),
         end <= off_.sig_data ? want : "tdx.signature_data.truncated"});
    start = end;
  }
  rows.push_back({"empty", Bytes(), "tdx.header.truncated"});
  ExpectAll(rows);
}

// 4. Length fields that point past the end of their container (and one short of it).
TEST_P(VerifyMutationTest, LengthFieldsPastTheEnd) {
  struct Edit {
    const char* name;
    std::size_t at;
    bool u16;
    std::int64_t change;  // added to the value; 0 = the maximum
    const char* reason;
  };
  const std::size_t sig_len = off_.body_end;
  const std::size_t cert_size = off_.cert_header + L::cert_data::kSize.offset;
  const std::size_t auth_size = off_.auth_size;
  const std::size_t pem_size = off_.nested_header + L::cert_data::kSize.offset;
  // The QE auth data size that claims exactly one byte more than the type 6 data holds.
  const auto auth_past_end = static_cast<std::int64_t>(off_.end - (off_.auth_size + 2) + 1) -
                             static_cast<std::int64_t>(view_->qe_auth_data.size());
  const Edit edits[] = {
      {"signature data length +1", sig_len, false, 1, "tdx.signature_data.truncated"},
      {"signature data length max", sig_len, false, 0, "tdx.signature_data.truncated"},
      {"signature data length -1", sig_len, false, -1, "tdx.cert_data.truncated"},
      {"outer cert data size +1", cert_size, false, 1, "tdx.cert_data.truncated"},
      {"outer cert data size max", cert_size, false, 0, "tdx.cert_data.truncated"},
      {"outer cert data size -1", cert_size, false, -1, "tdx.signature_data.trailing_bytes"},
      {"QE auth data size past the end", auth_size, true, auth_past_end,
       "tdx.qe_auth_data.truncated"},
      {"QE auth data size max", auth_size, true, 0, "tdx.qe_auth_data.truncated"},
      {"nested cert data size +1", pem_size, false, 1, "tdx.qe_cert_data.truncated"},
      {"nested cert data size max", pem_size, false, 0, "tdx.qe_cert_data.truncated"},
      {"nested cert data size -1", pem_size, false, -1, "tdx.cert_data.trailing_bytes"},
  };
  std::vector<Row> rows;
  for (const Edit& e : edits) {
    Bytes b = original_;
    if (e.u16) {
      const auto v = static_cast<std::uint16_t>(b.at(e.at) | b.at(e.at + 1) << 8);
      PutU16(b, e.at, e.change == 0 ? 0xffff : static_cast<std::uint16_t>(v + e.change));
    } else {
      const std::uint32_t v = GetU32(b, e.at);
      PutU32(b, e.at, e.change == 0 ? 0xffffffffu : static_cast<std::uint32_t>(v + e.change));
    }
    rows.push_back({e.name, std::move(b), e.reason});
  }
  // Every enclosing length grown consistently, so only the bytes themselves are missing.
  Bytes all = original_;
  PutU32(all, pem_size, GetU32(all, pem_size) + 16);
  PutU32(all, cert_size, GetU32(all, cert_size) + 16);
  PutU32(all, sig_len, GetU32(all, sig_len) + 16);
  rows.push_back({"every length +16", std::move(all), "tdx.signature_data.truncated"});
  ExpectAll(rows);
}

// 5a. The chain re-rooted at Intel's test root, and with no root at all.
TEST_P(VerifyMutationTest, ChainReRootedAtIntelsTestRoot) {
  auto test_root = crypto::Certificate::FromPem(testing::kIntelTestRootCaPem);
  ASSERT_TRUE(test_root.ok()) << test_root.error();
  ASSERT_TRUE(test_root->IsSelfSigned());
  ASSERT_EQ(test_root->SubjectName(), chain_->issuers.back().SubjectName());
  ASSERT_EQ(HexEncode(test_root->Sha256OfDer()).substr(0, 8), "bf85a53f");
  ASSERT_NE(test_root->Sha256OfDer(), IntelSgxRootCaAnchor().der_sha256);

  const std::string text = ChainText();
  const std::size_t root_begin = text.rfind("-----BEGIN CERTIFICATE-----");
  ASSERT_NE(root_begin, std::string::npos);
  const std::size_t nuls = text.size() - (text.find_last_not_of('\0') + 1);
  const std::string tail(nuls, '\0');

  const Bytes re_rooted = testing::WithPckChainData(
      original_, *view_,
      text.substr(0, root_begin) + std::string(testing::kIntelTestRootCaPem) + tail);
  ASSERT_NE(re_rooted.size(), original_.size());  // the lengths were fixed up
  auto parsed = ParseQuote(re_rooted);
  ASSERT_TRUE(parsed.ok()) << parsed.error();
  ASSERT_EQ(testing::CountPemCertificates(parsed->pck_cert_chain_pem), 3u);

  const Bytes rootless =
      testing::WithPckChainData(original_, *view_, text.substr(0, root_begin) + tail);
  ExpectAll({
      {"re-rooted at Intel's test root bf85a53f", re_rooted, "tdx.pck_chain.untrusted_root"},
      {"root removed", rootless, "tdx.pck_chain.untrusted_root"},
  });
  // Whoever pins the test root gets no further: the real PCK CA names the production root's
  // key (authorityKeyIdentifier), so the test root is not its issuer.
  Verifier test_pinned(SharedPool(), {crypto::TrustAnchor{test_root->Sha256OfDer(), "test"}});
  ExpectReason(test_pinned, as_of_,
               {"re-rooted, test root pinned", re_rooted, "tdx.pck_chain.no_path"});
}

// 5b. A whole fake chain with Intel's names, in which every signature holds: the leaf carries the
// real SGX extension, the QE report is signed by the fake leaf and binds a fresh attestation key
// that signs the quote. Only the pinned root stops it.
TEST_P(VerifyMutationTest, FakeIntelChainIsStoppedOnlyByThePinnedRoot) {
  const auto year = std::chrono::hours(24 * 365);
  auto pki = testing::MakeFakeIntelPki(*chain_, as_of_ - year, as_of_ + year, as_of_ + year);
  ASSERT_TRUE(pki.ok()) << pki.error();
  EXPECT_EQ(pki->root.SubjectName(), chain_->issuers.back().SubjectName());
  EXPECT_EQ(pki->ca.SubjectName(), chain_->leaf.IssuerName());
  EXPECT_EQ(pki->leaf.SubjectName(), chain_->leaf.SubjectName());
  EXPECT_EQ(pki->leaf.Extension(kSgxExtensionOid), chain_->leaf.Extension(kSgxExtensionOid));

  auto forged = testing::ForgeQuote(original_, *view_, *pki, pki->ChainPem());
  ASSERT_TRUE(forged.ok()) << forged.error();

  // Every signature inside the forged quote verifies, and its chain verifies to its own root.
  auto fv = ParseQuote(*forged);
  ASSERT_TRUE(fv.ok()) << fv.error();
  EXPECT_TRUE(CheckQeVendor(*fv).ok());
  EXPECT_TRUE(VerifyQuoteSignature(*fv).ok()) << VerifyQuoteSignature(*fv);
  auto fchain = ParsePckChain(*fv);
  ASSERT_TRUE(fchain.ok()) << fchain.error();
  auto leaf_key = fchain->leaf.PublicKey();
  ASSERT_TRUE(leaf_key.ok());
  EXPECT_TRUE(VerifyQeReportSignature(*fv, *leaf_key).ok());
  EXPECT_TRUE(VerifyAttestationKeyBinding(*fv).ok()) << VerifyAttestationKeyBinding(*fv);
  const crypto::TrustAnchor fake_anchor[] = {pki->anchor};
  auto own_path = crypto::VerifyChain(
      fchain->leaf, fchain->issuers, fake_anchor,
      {.as_of = ToSeconds(as_of_), .crl_policy = crypto::ChainOptions::CrlPolicy::kNone});
  EXPECT_TRUE(own_path.ok()) << own_path.error();

  // The real pin refuses it, also when Intel's real root is added to the chain.
  const std::string real_root_pem = chain_->issuers.back().ToPem();
  std::string with_real_root = pki->ChainPem();
  with_real_root.insert(with_real_root.size() - 1, real_root_pem);  // before the NUL
  auto forged_with_real_root = testing::ForgeQuote(original_, *view_, *pki, with_real_root);
  ASSERT_TRUE(forged_with_real_root.ok());
  ExpectAll({
      {"fake Intel chain", *forged, "tdx.pck_chain.untrusted_root"},
      {"fake Intel chain + the real Intel root", *forged_with_real_root,
       "tdx.pck_chain.untrusted_root"},
  });

  // Control: pin the fake root and give it collateral signed by the fake TCB signing key (the
  // real documents' exact bytes, re-signed) and fake CRLs. The forged quote then gets the
  // original's verdict: nothing but the pin was stopping it.
  auto ext = ParsePckExtensions(*chain_->leaf.Extension(kSgxExtensionOid));
  ASSERT_TRUE(ext.ok());
  auto ca = PckCaFromIssuerName(chain_->leaf.IssuerName());
  ASSERT_TRUE(ca.ok());
  auto selected = SharedPool()->Select(ext->fmspc, *ca, as_of_);
  ASSERT_TRUE(selected.ok()) << selected.error();
  auto fake_pool = testing::FakePool(*pki, *selected, as_of_);
  ASSERT_TRUE(fake_pool.ok()) << fake_pool.error();
  Verifier fake_pinned(*fake_pool, {pki->anchor});
  auto result = fake_pinned.Verify(*forged, {.as_of = as_of_});
  auto real = verifier_->Verify(original_, {.as_of = as_of_});
  if (GetParam().verdict == nullptr) {
    ASSERT_TRUE(result.ok()) << result.error();
    ASSERT_TRUE(real.ok());
    EXPECT_EQ(result->tcb.status, real->tcb.status);
    EXPECT_EQ(result->mr_td, real->mr_td);
    EXPECT_NE(result->certificate_chain.find("Fake Intel SGX Root CA (pinned)"), std::string::npos)
        << result->certificate_chain;
  } else {
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error().reason(), GetParam().verdict) << result.error();
  }
  // The fake-pinned verifier refuses the real quote in turn.
  ExpectReason(fake_pinned, as_of_,
               {"real quote, fake root pinned", original_, "tdx.pck_chain.untrusted_root"});
}

// 6. A valid quote verified when its collateral or its PCK leaf has expired.
TEST_P(VerifyMutationTest, ExpiredCollateralOrPckLeaf) {
  // Every TCB Info in the pool expired long before 2030 (README: all by 2026-04-15).
  ExpectReason(*verifier_, *ParseRfc3339("2030-01-01T00:00:00Z"),
               {"as of 2030", original_, "tdx.collateral.expired"});

  // A PCK leaf that expired the day before as_of while the collateral is current: a fake PKI
  // pinned with its own collateral (the real pool expires before any real leaf does).
  const auto day = std::chrono::hours(24);
  auto pki =
      testing::MakeFakeIntelPki(*chain_, as_of_ - 400 * day, as_of_ + 400 * day, as_of_ - day);
  ASSERT_TRUE(pki.ok()) << pki.error();
  auto forged = testing::ForgeQuote(original_, *view_, *pki, pki->ChainPem());
  ASSERT_TRUE(forged.ok()) << forged.error();
  auto ext = ParsePckExtensions(*chain_->leaf.Extension(kSgxExtensionOid));
  ASSERT_TRUE(ext.ok());
  auto selected =
      SharedPool()->Select(ext->fmspc, *PckCaFromIssuerName(chain_->leaf.IssuerName()), as_of_);
  ASSERT_TRUE(selected.ok()) << selected.error();
  auto fake_pool = testing::FakePool(*pki, *selected, as_of_);
  ASSERT_TRUE(fake_pool.ok()) << fake_pool.error();
  Verifier fake_pinned(*fake_pool, {pki->anchor});
  ExpectReason(fake_pinned, as_of_,
               {"PCK leaf expired yesterday", *forged, "tdx.pck_chain.cert_expired"});
}

INSTANTIATE_TEST_SUITE_P(RealQuotes, VerifyMutationTest, ::testing::ValuesIn(kQuotes),
                         [](const auto& param_info) { return std::string(param_info.param.name); });

}  // namespace
}  // namespace lunal::attest::tdx
