// VerifyAzure over every Azure row of ../shared/evidence/README.md's table at its as-of time, and
// a mutation table over real evidence: each step of verify.h must catch its own forgery.
#include "lunal/attest/azure/verify.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>

#include "lunal/common/encoding.h"
#include "test_evidence.h"

namespace lunal::attest::azure {
namespace {

using testing::AzureRow;
using testing::ReadEvidence;

Timestamp At(std::string_view rfc3339) {
  auto t = ParseRfc3339(rfc3339);
  EXPECT_TRUE(t.ok()) << rfc3339;
  return t.ok() ? *t : Timestamp{};
}

const tdx::Verifier& IntelVerifier() {
  static const tdx::Verifier verifier(testing::IntelPool());
  return verifier;
}

Result<AzureVerification> Verify(const AzureEvidence& evidence, std::string_view as_of,
                                 std::optional<Bytes> cert = std::nullopt,
                                 std::optional<Bytes> nonce = std::nullopt) {
  return VerifyAzure(evidence, VerifyOptions{.as_of = At(as_of),
                                             .signing_cert = std::move(cert),
                                             .tdx_verifier = &IntelVerifier(),
                                             .expected_nonce = std::move(nonce)});
}

AzureEvidence Decode(std::string_view path) {
  auto evidence = DecodeAzureEvidence(ReadEvidence(path));
  EXPECT_TRUE(evidence.ok()) << path << ": " << evidence.error();
  return evidence.ok() ? *evidence : AzureEvidence{};
}

std::optional<Bytes> CertOf(const AzureRow& row) {
  if (row.cert.empty()) return std::nullopt;
  return ReadEvidence(row.cert);
}

class AzureVerifyTest : public ::testing::TestWithParam<AzureRow> {};

TEST_P(AzureVerifyTest, VerifiesAtItsAsOfTime) {
  const AzureRow& row = GetParam();
  const AzureEvidence evidence = Decode(row.path);
  Bytes nonce;
  if (!row.nonce_hex.empty()) nonce = *HexDecode(row.nonce_hex);
  auto result = Verify(evidence, row.as_of, CertOf(row),
                       row.nonce_hex.empty() ? std::nullopt : std::optional<Bytes>(nonce));
  ASSERT_TRUE(result.ok()) << result.error();
  EXPECT_EQ(result->tee, row.tee);
  const Json json = result->ToJson();
  const std::string measurement = row.tee == HclReportType::kSnp
                                      ? json["measurements"]["measurement"].get<std::string>()
                                      : json["measurements"]["mr_td"].get<std::string>();
  EXPECT_TRUE(measurement.starts_with(row.measurement_prefix)) << measurement;
  EXPECT_EQ(json["tee"]["platform"], "azure");
  EXPECT_EQ(json["azure"]["runtime_data"]["bound_to_report_data"], true);
  EXPECT_EQ(result->attestation_key_bits, 2048);
  // REPORT_DATA really is SHA-256 of the runtime JSON, then 32 zero bytes.
  const Bytes& report_data = result->snp ? result->snp->report_data : result->tdx->report_data;
  EXPECT_EQ(Bytes(report_data.begin(), report_data.begin() + 32), result->runtime_data_digest);
  EXPECT_TRUE(std::all_of(report_data.begin() + 32, report_data.end(),
                          [](std::uint8_t b) { return b == 0; }));
  if (row.nonce_hex.empty()) {
    EXPECT_FALSE(result->vtpm.has_value());
    EXPECT_TRUE(json["azure"]["vtpm_quote"].is_null());
  } else {
    ASSERT_TRUE(result->vtpm.has_value());
    EXPECT_EQ(HexEncode(result->vtpm->nonce), row.nonce_hex);
    EXPECT_EQ(result->vtpm->selected_pcrs.size(), 24u);
    EXPECT_EQ(json["azure"]["vtpm_quote"]["pcrs"].size(), 24u);
  }
}

INSTANTIATE_TEST_SUITE_P(Evidence, AzureVerifyTest, ::testing::ValuesIn(testing::AzureRows()));

// ---- Mutations ----

const std::string kSnpEvidence = std::string(testing::kRs) + "az_snp/evidence-v1.json";
const std::string kTdxEvidence = std::string(testing::kRs) + "az_tdx/evidence-v1.json";
constexpr std::string_view kSnpAsOf = "2026-11-01T09:22:19Z";
constexpr std::string_view kTdxAsOf = "2025-10-01T00:34:24Z";

// Changes one hex digit of the VM's unique id inside the runtime JSON: still valid JSON, still
// the same key, but no longer the bytes the hardware report hashed.
void EditRuntimeData(AzureEvidence& e) {
  const std::string_view key = "\"vmUniqueId\":\"";
  auto it = std::search(e.hcl_report.begin(), e.hcl_report.end(), key.begin(), key.end());
  ASSERT_NE(it, e.hcl_report.end());
  std::uint8_t& digit = *(it + static_cast<std::ptrdiff_t>(key.size()));
  digit = digit == '0' ? '1' : '0';
}

// A byte of the TDREPORT inside a TDX HCL report (unsigned there: only the cross-check sees it).
void EditTdReport(AzureEvidence& e, Field field) {
  e.hcl_report[layout::kHwReport.offset + field.offset] ^= 0x01;
}

struct Mutation {
  std::string name;
  bool tdx;
  std::function<void(AzureEvidence&)> edit;
  std::string reason;
  std::optional<std::string> nonce_hex = std::nullopt;
};
void PrintTo(const Mutation& m, std::ostream* os) { *os << m.name; }

class AzureMutationTest : public ::testing::TestWithParam<Mutation> {};

TEST_P(AzureMutationTest, FailsWithItsReason) {
  const Mutation& m = GetParam();
  AzureEvidence evidence = Decode(m.tdx ? kTdxEvidence : kSnpEvidence);
  const std::string_view as_of = m.tdx ? kTdxAsOf : kSnpAsOf;
  ASSERT_TRUE(Verify(evidence, as_of).ok());
  m.edit(evidence);
  std::optional<Bytes> nonce;
  if (m.nonce_hex) nonce = *HexDecode(*m.nonce_hex);
  auto result = Verify(evidence, as_of, std::nullopt, nonce);
  ASSERT_FALSE(result.ok()) << m.name;
  EXPECT_EQ(result.error().reason(), m.reason) << result.error();
}

namespace td = tdx::tdreport;

INSTANTIATE_TEST_SUITE_P(
    Steps, AzureMutationTest,
    ::testing::Values(
        // Step 1
        Mutation{"snp_container_says_tdx", false,
                 [](AzureEvidence& e) { e.tee = HclReportType::kTdx; },
                 "azure.container.tee_mismatch"},
        Mutation{"hcl_magic", false, [](AzureEvidence& e) { e.hcl_report[1] = 'X'; },
                 "azure.hcl.magic"},
        // Step 2: the hardware evidence
        Mutation{"snp_report_measurement", false,
                 [](AzureEvidence& e) { e.hcl_report[layout::kHwReport.offset + 0x90] ^= 1; },
                 "snp.report.signature_invalid"},
        Mutation{"snp_mismatched_vcek", false,
                 [](AzureEvidence& e) {
                   e.vcek = ReadEvidence(std::string(testing::kRs) + "az_snp/imds-vcek.der");
                 },
                 "snp.report.signature_invalid"},
        Mutation{"tdx_quote_missing", true, [](AzureEvidence& e) { e.td_quote.reset(); },
                 "azure.tdx.missing_quote"},
        Mutation{"tdx_quote_body", true, [](AzureEvidence& e) { (*e.td_quote)[200] ^= 1; },
                 "tdx.quote.signature_invalid"},
        Mutation{"tdreport_rtmr3", true, [](AzureEvidence& e) { EditTdReport(e, td::kRtmr3); },
                 "azure.tdreport.mismatch"},
        Mutation{"tdreport_mrtd", true, [](AzureEvidence& e) { EditTdReport(e, td::kMrTd); },
                 "azure.tdreport.mismatch"},
        Mutation{"tdreport_report_data", true,
                 [](AzureEvidence& e) { EditTdReport(e, td::kReportData); },
                 "azure.tdreport.mismatch"},
        Mutation{"tdreport_attributes", true,
                 [](AzureEvidence& e) { EditTdReport(e, td::kTdAttributes); },
                 "azure.tdreport.mismatch"},
        Mutation{"tdreport_type", true, [](AzureEvidence& e) { EditTdReport(e, td::kReportType); },
                 "tdx.tdreport.bad_type"},
        // Step 3: the runtime binding
        Mutation{"snp_runtime_data", false, EditRuntimeData, "azure.binding.mismatch"},
        Mutation{"tdx_runtime_data", true, EditRuntimeData, "azure.binding.mismatch"},
        Mutation{"snp_hash_type_sha384", false,
                 [](AzureEvidence& e) { e.hcl_report[layout::kRuntimeOffset + 12] = 2; },
                 "azure.binding.mismatch"},
        // Step 4: the vTPM quote
        Mutation{"tpm_signature", false, [](AzureEvidence& e) { e.tpm_quote->signature[9] ^= 1; },
                 "azure.tpm.signature_invalid"},
        Mutation{"tpm_signature_short", false,
                 [](AzureEvidence& e) { e.tpm_quote->signature.pop_back(); },
                 "azure.tpm.signature_invalid"},
        Mutation{"tpm_nonce_in_message", false,
                 [](AzureEvidence& e) { e.tpm_quote->message[48] ^= 1; },
                 "azure.tpm.signature_invalid"},
        Mutation{"tpm_message_magic", false, [](AzureEvidence& e) { e.tpm_quote->message[0] = 0; },
                 "azure.tpm.magic"},
        Mutation{"tdx_tpm_signature", true,
                 [](AzureEvidence& e) { e.tpm_quote->signature[0] ^= 1; },
                 "azure.tpm.signature_invalid"},
        Mutation{"pcr_value", false, [](AzureEvidence& e) { e.tpm_quote->pcrs[7][0] ^= 1; },
                 "azure.tpm.pcr_digest_mismatch"},
        Mutation{"pcrs_swapped", false,
                 [](AzureEvidence& e) { std::swap(e.tpm_quote->pcrs[0], e.tpm_quote->pcrs[1]); },
                 "azure.tpm.pcr_digest_mismatch"},
        Mutation{"pcr_missing", false, [](AzureEvidence& e) { e.tpm_quote->pcrs.pop_back(); },
                 "azure.tpm.pcr_value"},
        Mutation{"pcr_short", false, [](AzureEvidence& e) { e.tpm_quote->pcrs[3].pop_back(); },
                 "azure.tpm.pcr_value"},
        Mutation{"wrong_nonce", false, [](AzureEvidence&) {}, "azure.tpm.nonce_mismatch",
                 "6368616c6c656e6766"},
        Mutation{"nonce_without_quote", false, [](AzureEvidence& e) { e.tpm_quote.reset(); },
                 "azure.tpm.nonce_mismatch", "6368616c6c656e6765"}),
    [](const auto& param_info) { return param_info.param.name; });

TEST(AzureVerifyTest, TdxNeedsCollateral) {
  const AzureEvidence evidence = Decode(kTdxEvidence);
  auto result = VerifyAzure(evidence, VerifyOptions{.as_of = At(kTdxAsOf)});
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().reason(), "azure.options.no_collateral");
}

TEST(AzureVerifyTest, TdQuoteOfAnotherVmIsRefused) {
  // Both quotes verify on their own at the later as-of; only the cross-check tells them apart.
  AzureEvidence evidence = Decode(kTdxEvidence);
  const AzureEvidence other = Decode(std::string(testing::kRs) + "az_tdx/live-evidence.json");
  evidence.td_quote = other.td_quote;
  auto result = Verify(evidence, "2026-03-31T22:20:07Z");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().reason(), "azure.tdreport.mismatch") << result.error();
}

TEST(AzureVerifyTest, HclReportOfAnotherVmIsRefused) {
  // The SNP reports both verify; the vTPM quote is signed by the other VM's attestation key.
  AzureEvidence evidence = Decode(kSnpEvidence);
  const AzureEvidence other =
      Decode(std::string(testing::kTrustee) + "az-snp-vtpm/evidence-v1.json");
  evidence.tpm_quote = other.tpm_quote;
  auto result = Verify(evidence, kSnpAsOf);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().reason(), "azure.tpm.signature_invalid") << result.error();
}

}  // namespace
}  // namespace lunal::attest::azure
