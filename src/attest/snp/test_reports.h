// Test support: the SNP rows of ../shared/evidence/README.md's "Expected results" table (one row
// per distinct file; the pairings with other certificates are in verify_test.cc), and helpers to
// edit real reports for mutation tests.
#pragma once

#include <cstddef>
#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "lunal/attest/snp/evidence_input.h"
#include "lunal/attest/snp/report.h"
#include "lunal/common/bytes.h"

namespace lunal::attest::snp::testing {

struct EvidenceReport {
  std::string path;  // relative to ../shared/evidence
  Container container;
  std::uint32_t version;
  SigningKey signing_key;
  std::string measurement_prefix;  // the README's "MEASUREMENT" column
  bool debug;                      // the README's "debug" column ("allowed" = policy bit set)
  bool carries_vcek;               // the container holds the signing certificate
};

inline void PrintTo(const EvidenceReport& report, std::ostream* os) { *os << report.path; }

// Every distinct SNP report file in the README table (15 files).
const std::vector<EvidenceReport>& EvidenceReports();

// Reads ../shared/evidence/<path> (fails the test if missing).
Bytes ReadEvidence(std::string_view path);

// Paths of real reports, one per version, for mutations.
inline constexpr std::string_view kReportV2 =
    "lunal-attestation-rs/crates/attestation/test_data/snp/test-report.bin";
inline constexpr std::string_view kReportV3 =
    "lunal-attestation-rs/crates/attestation/test_data/snp/test-vlek-report.bin";
inline constexpr std::string_view kReportV5 =
    "lunal-attestation-rs/crates/attestation/test_data/snp/live-report-v5-genoa.bin";

// Little-endian edits for mutations.
void PutU32(Bytes& bytes, std::size_t offset, std::uint32_t value);
void PutU64(Bytes& bytes, std::size_t offset, std::uint64_t value);
std::uint64_t GetU64(const Bytes& bytes, std::size_t offset);

}  // namespace lunal::attest::snp::testing
