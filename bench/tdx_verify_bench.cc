// TDX quote verification rate on one core, against the bound DESIGN.md sets: two ECDSA P-256
// verifications per quote (the quote signature and the QE report signature) at OpenSSL's own
// `openssl speed ecdsap256` rate, measured in the same run. Target: warm ≥ 80% of that bound.
//
// Figures:
//   tdx_verify_warm         a long-lived Verifier (collateral pool loaded once; PCK chains
//                           cached), real quotes at their as-of times
//   tdx_verify_cold         a new Verifier per quote: PEM/X.509 parsing and path validation with
//                           CRLs every time (the pool is still parsed once)
//   tdx_verify_cold_pool    also loading and verifying the collateral folder for every quote, as
//                           a verifier without a collateral cache would
// Inputs: real quotes and the collateral pool from ../shared/evidence.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <regex>
#include <string>
#include <vector>

#include "bench_util.h"
#include "lunal/attest/tdx/evidence_input.h"
#include "lunal/attest/tdx/verify.h"

namespace lunal::bench {
namespace {

namespace fs = std::filesystem;
namespace tdx = attest::tdx;

struct Sample {
  Bytes quote;
  Timestamp as_of;
};

}  // namespace
}  // namespace lunal::bench

int main() {
  using namespace lunal;
  using namespace lunal::bench;
  const fs::path evidence = SharedDir() / "evidence";
  const fs::path collateral = evidence / "collateral/intel";
  std::vector<Sample> samples;
  for (auto [path, at] :
       {std::pair{"go-tdx-guest/testing/testdata/quote_v5_sample.dat", "2026-03-31T22:20:07Z"},
        std::pair{"lunal-attestation-rs/crates/attestation/test_data/"
                  "tdx_quote_4.dat",
                  "2026-03-31T22:25:04Z"}}) {
    auto decoded = tdx::DecodeQuoteContainer(ReadFile(evidence / path));
    if (!decoded.ok()) return std::fprintf(stderr, "%s: cannot read\n", path), 1;
    samples.push_back({decoded->quote, *ParseRfc3339(at)});
  }
  auto pool = tdx::CollateralPool::LoadDirectory(collateral);
  if (!pool.ok()) return std::fprintf(stderr, "%s\n", pool.error().ToString().c_str()), 1;

  tdx::Verifier warm(*pool);
  std::size_t i = 0, failures = 0;
  auto verify_with = [&](const tdx::Verifier& v) {
    const Sample& s = samples[i++ % samples.size()];
    if (!v.Verify(s.quote, {.as_of = s.as_of}).ok()) ++failures;
  };
  double warm_rate = OpsPerSecond([&] { verify_with(warm); }, 3.0);
  double cold_rate = OpsPerSecond(
      [&] {
        tdx::Verifier fresh(*pool);
        verify_with(fresh);
      },
      3.0, 8);
  double cold_pool_rate = OpsPerSecond(
      [&] {
        auto fresh_pool = tdx::CollateralPool::LoadDirectory(collateral);
        if (!fresh_pool.ok()) ++failures;
        tdx::Verifier fresh(*fresh_pool);
        verify_with(fresh);
      },
      3.0, 1);
  if (failures > 0) return std::fprintf(stderr, "%zu verifications failed\n", failures), 1;

  double bound = OpenSslEcdsaVerifyRate("ecdsap256", "nistp256", 2) / 2.0;
  PrintResult("tdx_verify_warm", warm_rate, bound, "quotes/s");
  PrintResult("tdx_verify_cold", cold_rate, bound, "quotes/s");
  PrintResult("tdx_verify_cold_pool", cold_pool_rate, bound, "quotes/s");
  return 0;
}
