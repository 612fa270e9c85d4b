#include "test_reports.h"

#include <gtest/gtest.h>

#include "lunal/testing/testing.h"

namespace lunal::attest::snp::testing {

const std::vector<EvidenceReport>& EvidenceReports() {
  const std::string rs = "lunal-attestation-rs/crates/attestation/test_data/";
  const std::string tr = "trustee/deps/verifier/test_data/";
  using C = Container;
  using K = SigningKey;
  static const std::vector<EvidenceReport> kReports = {
      {rs + "snp/live-report-v5-genoa.bin", C::kRaw, 5, K::kVcek, "d9912ba396ce409c", false, false},
      {rs + "snp/live-evidence-genoa.json", C::kAttestationRsSnp, 5, K::kVcek, "d9912ba396ce409c",
       false, true},
      {rs + "snp/test-report.bin", C::kRaw, 2, K::kVcek, "a1f3930413247bb3", false, false},
      {rs + "snp/test-vlek-report.bin", C::kRaw, 3, K::kVlek, "8922ebbdd00ec2c5", false, false},
      {rs + "az_snp/hcl-report.bin", C::kHclReport, 2, K::kVcek, "9ac48fcac8a2d88a", false, false},
      {tr + "az-snp-vtpm/hcl-report.bin", C::kHclReport, 2, K::kVcek, "9ac48fcac8a2d88a", false,
       false},
      {rs + "az_snp/evidence-v1.json", C::kAttestationRsAzSnp, 2, K::kVcek, "9ac48fcac8a2d88a",
       false, true},
      {rs + "az_snp/live-evidence.json", C::kAttestationRsAzSnp, 3, K::kVcek, "6a063be9dd79f637",
       false, true},
      {tr + "az-snp-vtpm/evidence-genoa.json", C::kAzureSnpVtpm, 3, K::kVcek, "f57dc09a507c6ecd",
       false, true},
      {tr + "az-snp-vtpm/evidence-v0.json", C::kAzureSnpVtpm, 3, K::kVcek, "6a063be9dd79f637",
       false, true},
      {tr + "az-snp-vtpm/evidence-v1.json", C::kAzureSnpVtpm, 3, K::kVcek, "6a063be9dd79f637",
       false, true},
      {tr + "az-snp-vtpm/evidence-v2.json", C::kAzureSnpVtpm, 3, K::kVcek, "5b0ce64ad1c1f637",
       false, true},
      {"trustee/attestation-service/tests/e2e/evidence.json", C::kTrusteeSnpDecoded, 3, K::kVcek,
       "6a6519d757e68c2e", false, true},
      {"go-sev-guest/verify/testdata/attestation.bin", C::kRaw, 2, K::kVcek, "b07af9620f3b839b",
       true, false},
      {"virtee-sev/tests/certs_data/report_milan.hex", C::kHex, 2, K::kVcek, "7a1e5c266c0108db",
       false, false},
  };
  return kReports;
}

Bytes ReadEvidence(std::string_view path) {
  return lunal::testing::ReadFileBytes(lunal::testing::SharedDir() / "evidence" / path);
}

void PutU32(Bytes& bytes, std::size_t offset, std::uint32_t value) {
  for (std::size_t i = 0; i < 4; ++i)
    bytes.at(offset + i) = static_cast<std::uint8_t>(value >> (8 * i));
}

void PutU64(Bytes& bytes, std::size_t offset, std::uint64_t value) {
  for (std::size_t i = 0; i < 8; ++i)
    bytes.at(offset + i) = static_cast<std::uint8_t>(value >> (8 * i));
}

std::uint64_t GetU64(const Bytes& bytes, std::size_t offset) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < 8; ++i) v |= std::uint64_t{bytes.at(offset + i)} << (8 * i);
  return v;
}

}  // namespace lunal::attest::snp::testing
