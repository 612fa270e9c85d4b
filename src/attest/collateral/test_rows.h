// Test support: real evidence from ../shared/evidence/README.md's "Expected results" table, with
// the as-of times at which it verifies against the shared collateral pool (the same rows as
// src/attest/tdx/verify_test.cc), and small helpers.
#pragma once

#include <filesystem>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "lunal/attest/collateral/fake_pcs_kds_server.h"
#include "lunal/common/bytes.h"
#include "lunal/common/time.h"

namespace lunal::attest::collateral::testing {

struct TdxRow {
  std::string path;  // relative to ../shared/evidence
  std::string as_of;
  std::string tcb_status;
};
// gtest prints a row by its path.
inline void PrintTo(const TdxRow& row, std::ostream* os) { *os << row.path; }

// Accepted TDX rows (raw quotes): tdx_quote_4.dat, az_tdx/td-quote.bin, quote_v5_sample.dat,
// cos-113-tdx-quote.dat.
const std::vector<TdxRow>& AcceptedTdxRows();

std::filesystem::path EvidenceDir();         // ../shared/evidence
std::filesystem::path IntelCollateralDir();  // ../shared/evidence/collateral/intel

// The raw quote of a row (container decoded); fails the test if it cannot be read.
Bytes QuoteOf(const TdxRow& row);
Timestamp AsOf(const TdxRow& row);
Timestamp T(const char* rfc3339);  // parses or fails the test

// A started fake server over the shared evidence (fails the test and returns null otherwise).
std::unique_ptr<FakePcsKdsServer> StartFake();

}  // namespace lunal::attest::collateral::testing
