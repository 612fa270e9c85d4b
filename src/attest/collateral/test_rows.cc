#include "test_rows.h"

#include <gtest/gtest.h>

#include "lunal/attest/tdx/evidence_input.h"
#include "lunal/testing/testing.h"

namespace lunal::attest::collateral::testing {

const std::vector<TdxRow>& AcceptedTdxRows() {
  static const auto* rows = new std::vector<TdxRow>{
      {"lunal-attestation-rs/crates/attestation/test_data/tdx_quote_4.dat", "2026-03-31T22:25:04Z",
       "OutOfDate"},
      {"lunal-attestation-rs/crates/attestation/test_data/az_tdx/td-quote.bin",
       "2025-10-01T00:34:24Z", "OutOfDate"},
      {"go-tdx-guest/testing/testdata/quote_v5_sample.dat", "2026-03-31T22:20:07Z", "UpToDate"},
      {"go-tdx-guest/testing/testdata/ccel/cos-113-tdx-quote.dat", "2025-10-01T00:34:24Z",
       "UpToDate"},
  };
  return *rows;
}

std::filesystem::path EvidenceDir() { return lunal::testing::SharedDir() / "evidence"; }
std::filesystem::path IntelCollateralDir() { return EvidenceDir() / "collateral" / "intel"; }

Bytes QuoteOf(const TdxRow& row) {
  auto decoded = tdx::DecodeQuoteContainer(lunal::testing::ReadFileBytes(EvidenceDir() / row.path));
  EXPECT_TRUE(decoded.ok()) << row.path << ": " << decoded.error();
  return decoded.ok() ? decoded->quote : Bytes();
}

Timestamp T(const char* rfc3339) {
  auto t = ParseRfc3339(rfc3339);
  EXPECT_TRUE(t.ok()) << rfc3339;
  return t.ok() ? *t : Timestamp();
}

Timestamp AsOf(const TdxRow& row) { return T(row.as_of.c_str()); }

std::unique_ptr<FakePcsKdsServer> StartFake() {
  auto server = FakePcsKdsServer::Start({.evidence_dir = EvidenceDir()});
  EXPECT_TRUE(server.ok()) << server.error();
  return server.ok() ? std::move(server).value() : nullptr;
}

}  // namespace lunal::attest::collateral::testing
