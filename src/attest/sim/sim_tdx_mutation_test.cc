// A sim-tdx quote with any byte changed fails verification. Two tables: every region of the
// parsed quote (offsets taken from its QuoteView and the layout constants, never typed) with the
// reason the verifier must give; and every single byte of the quote flipped. Plus certificate
// edits that keep the PEM well-formed, so the chain's signatures (not its parser) must catch them.
#include <gtest/gtest.h>

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "lunal/attest/tdx/quote.h"
#include "lunal/attest/tdx/quote_layout.h"
#include "lunal/common/encoding.h"
#include "sim_test_support.h"

namespace lunal::attest::sim {
namespace {

using testing::ReportData;
using testing::SimWorld;
namespace layout = tdx::layout;

struct Region {
  std::string name;
  std::size_t offset;  // in the quote
  std::size_t size;
  std::set<std::string> reasons;  // what the verifier may answer
};

class SimTdxMutation : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(w_.Init());
    auto evidence = w_.attester->Attest(ReportData(77));
    ASSERT_TRUE(evidence.ok()) << evidence.error();
    quote_ = evidence->quote;
    auto view = tdx::ParseQuote(quote_);
    ASSERT_TRUE(view.ok()) << view.error();
    view_.emplace(*view);
    // The unmutated quote verifies: every failure below is the mutation's.
    ASSERT_TRUE(Verify(quote_).ok());
  }

  Result<tdx::TdxVerification> Verify(ByteSpan quote) const {
    return w_.verifier->Verify(quote, {.as_of = w_.clock.Now()});
  }

  std::size_t At(ByteSpan span) const {
    return static_cast<std::size_t>(span.data() - quote_.data());
  }

  Region Of(std::string name, ByteSpan span, std::set<std::string> reasons) const {
    return {std::move(name), At(span), span.size(), std::move(reasons)};
  }

  std::vector<Region> Regions() const {
    const std::set<std::string> quote_sig = {"tdx.quote.signature_invalid"};
    const std::set<std::string> qe_sig = {"tdx.qe_report.signature_invalid"};
    const tdx::QuoteHeader& h = view_->header;
    const tdx::TdReportBody& b = view_->body;
    const tdx::QeReport& qe = view_->qe_report;
    auto header_field = [&](std::string name, layout::Field f, std::set<std::string> reasons) {
      return Of(std::move(name), h.raw.subspan(f.offset, f.size), std::move(reasons));
    };
    std::vector<Region> out = {
        header_field("header.version", layout::header::kVersion,
                     {"tdx.header.unsupported_version"}),
        header_field("header.att_key_type", layout::header::kAttKeyType,
                     {"tdx.header.unsupported_key_type"}),
        header_field("header.tee_type", layout::header::kTeeType, {"tdx.header.not_tdx"}),
        header_field("header.qe_svn", layout::header::kQeSvn, quote_sig),
        header_field("header.pce_svn", layout::header::kPceSvn, quote_sig),
        Of("header.qe_vendor_id", h.qe_vendor_id, {"tdx.header.unknown_qe_vendor"}),
        Of("header.user_data", h.user_data, quote_sig),
        Of("body.tee_tcb_svn", b.tee_tcb_svn, quote_sig),
        Of("body.mr_seam", b.mr_seam, quote_sig),
        Of("body.mr_signer_seam", b.mr_signer_seam, quote_sig),
        Of("body.seam_attributes", b.seam_attributes, quote_sig),
        Of("body.td_attributes", b.td_attributes.raw, quote_sig),
        Of("body.xfam", b.xfam, quote_sig),
        Of("body.mr_td", b.mr_td, quote_sig),
        Of("body.mr_config_id", b.mr_config_id, quote_sig),
        Of("body.mr_owner", b.mr_owner, quote_sig),
        Of("body.mr_owner_config", b.mr_owner_config, quote_sig),
        Of("body.rtmr0", b.rtmr[0], quote_sig),
        Of("body.rtmr1", b.rtmr[1], quote_sig),
        Of("body.rtmr2", b.rtmr[2], quote_sig),
        Of("body.rtmr3", b.rtmr[3], quote_sig),
        Of("body.report_data", b.report_data, quote_sig),
        Of("signature", view_->signature, quote_sig),
        Of("attestation_key", view_->attestation_key,
           {"tdx.attestation_key.invalid", "tdx.quote.signature_invalid"}),
        Of("qe_report.cpu_svn", qe.cpu_svn, qe_sig),
        Of("qe_report.isv_ext_prod_id", qe.isv_ext_prod_id, qe_sig),
        Of("qe_report.attributes", qe.attributes, qe_sig),
        Of("qe_report.mr_enclave", qe.mr_enclave, qe_sig),
        Of("qe_report.mr_signer", qe.mr_signer, qe_sig),
        Of("qe_report.config_id", qe.config_id, qe_sig),
        Of("qe_report.isv_family_id", qe.isv_family_id, qe_sig),
        Of("qe_report.report_data", qe.report_data, qe_sig),
        Of("qe_report (all 384 bytes)", qe.raw, qe_sig),
        Of("qe_report_signature", view_->qe_report_signature, qe_sig),
        Of("qe_auth_data", view_->qe_auth_data, {"tdx.qe_report.attestation_key_binding"}),
        Of("pck_cert_chain", view_->pck_cert_chain_data, {"tdx.pck_chain.parse_failed"}),
    };
    for (std::size_t i = 0; i < qe.reserved.size(); ++i) {
      out.push_back(Of("qe_report.reserved" + std::to_string(i + 1), qe.reserved[i], qe_sig));
    }
    return out;
  }

  SimWorld w_;
  Bytes quote_;
  std::optional<tdx::QuoteView> view_;  // into quote_
};

TEST_F(SimTdxMutation, EveryRegionFailsWithItsReason) {
  const std::vector<Region> regions = Regions();
  std::size_t covered = 0;
  for (const Region& r : regions) {
    ASSERT_GT(r.size, 0u) << r.name;
    ASSERT_LE(r.offset + r.size, quote_.size()) << r.name;
    for (std::size_t pos : std::set<std::size_t>{0, r.size / 2, r.size - 1}) {
      Bytes mutated = quote_;
      mutated[r.offset + pos] ^= 0xFF;
      auto v = Verify(mutated);
      ASSERT_FALSE(v.ok()) << r.name << " byte " << pos << " changed, yet the quote verified";
      EXPECT_TRUE(r.reasons.count(v.error().reason()) == 1)
          << r.name << " byte " << pos << ": " << v.error();
      ++covered;
    }
  }
  EXPECT_GE(covered, 3 * regions.size() - 6);  // single-byte fields give fewer positions
}

TEST_F(SimTdxMutation, RegionsCoverTheWholeSignedQuote) {
  // The table above is not a sample: header, body and signature data are covered end to end
  // (the QE report's fields by its raw span; the lengths and types by the byte flips below).
  std::vector<bool> covered(quote_.size(), false);
  for (const Region& r : Regions()) {
    for (std::size_t i = 0; i < r.size; ++i) covered[r.offset + i] = true;
  }
  const std::size_t signed_end = At(view_->signed_region) + view_->signed_region.size();
  for (std::size_t i = 0; i < signed_end; ++i) EXPECT_TRUE(covered[i]) << "offset " << i;
  EXPECT_EQ(signed_end, layout::quote_v4::kSignatureDataLenOffset);
}

TEST_F(SimTdxMutation, EverySingleByteFlipped) {
  std::size_t failures = 0;
  for (std::size_t i = 0; i < quote_.size(); ++i) {
    Bytes mutated = quote_;
    mutated[i] ^= 0xFF;
    auto v = Verify(mutated);
    EXPECT_FALSE(v.ok()) << "offset " << i << " flipped, yet the quote verified";
    if (!v.ok()) ++failures;
  }
  EXPECT_EQ(failures, quote_.size());
  // Truncated by one byte, or extended by a non-zero one: refused too (the verifier ignores
  // trailing bytes but reports them; the strict parser refuses them).
  Bytes shorter(quote_.begin(), quote_.end() - 1);
  EXPECT_FALSE(Verify(shorter).ok());
  Bytes longer = quote_;
  longer.push_back(1);
  EXPECT_FALSE(tdx::ParseQuote(longer).ok());
}

// Each certificate of the chain with one byte of its serial number changed, re-encoded as
// well-formed PEM of the same length: the chain parses, and its signatures catch the edit.
TEST_F(SimTdxMutation, CertificateEditsBreakTheChain) {
  const std::string pem(view_->pck_cert_chain_pem);
  auto certs = crypto::ParsePemChain(pem);
  ASSERT_TRUE(certs.ok()) << certs.error();
  ASSERT_EQ(certs->size(), 3u);
  const std::size_t pem_at = At(AsBytes(view_->pck_cert_chain_pem));
  const std::set<std::string> reasons = {"tdx.pck_chain.signature_invalid",
                                         "tdx.pck_chain.untrusted_root", "tdx.pck_chain.no_path"};
  for (std::size_t i = 0; i < certs->size(); ++i) {
    const crypto::Certificate& cert = (*certs)[i];
    std::string serial_hex = cert.SerialHex();
    if (serial_hex.size() % 2 == 1) serial_hex.insert(serial_hex.begin(), '0');
    const Bytes serial = *HexDecode(serial_hex);
    Bytes der(cert.Der().begin(), cert.Der().end());
    auto found = std::search(der.begin(), der.end(), serial.begin(), serial.end());
    ASSERT_NE(found, der.end()) << "certificate " << i;
    *(found + static_cast<std::ptrdiff_t>(serial.size()) - 1) ^= 0x01;  // last serial byte
    auto edited = crypto::Certificate::FromDer(der);
    ASSERT_TRUE(edited.ok()) << edited.error();
    const std::string before = cert.ToPem();
    const std::string after = edited->ToPem();
    ASSERT_EQ(before.size(), after.size());
    const std::size_t block = pem.find(before);
    ASSERT_NE(block, std::string::npos);
    Bytes mutated = quote_;
    std::copy(after.begin(), after.end(),
              mutated.begin() + static_cast<std::ptrdiff_t>(pem_at + block));
    auto v = Verify(mutated);
    ASSERT_FALSE(v.ok()) << "certificate " << i << " edited, yet the quote verified";
    EXPECT_TRUE(reasons.count(v.error().reason()) == 1) << "certificate " << i << ": " << v.error();
  }
}

}  // namespace
}  // namespace lunal::attest::sim
