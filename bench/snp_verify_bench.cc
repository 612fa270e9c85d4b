// SEV-SNP report verification rate on one core, against the bound DESIGN.md sets: one ECDSA
// P-384 verification per report (the report signature under the VCEK) at OpenSSL's own
// `openssl speed ecdsap384` rate, measured in the same run. Target: warm ≥ 80% of that bound.
//
// Figures:
//   snp_verify_warm   a long-lived attest::snp::Verifier: per report, parse, one P-384
//                     verification and the comparisons (the VCEK, its key, its extensions and the
//                     validated ARK → ASK → VCEK path are cached by the certificate's digest)
//   snp_verify_cold   VerifyReport (no cache): the VCEK parsed and its path validated (two
//                     RSASSA-PSS-4096 verifications) for every report
// Inputs: real reports and their VCEKs from ../shared/evidence, at their as-of times.
//
// Both sides are rates per second of CPU time: `openssl speed` divides by the CPU user time it
// used (unless given -elapsed), so ours is counted on this thread's CPU clock too. On a shared
// machine a wall-clock rate would charge us for other processes' time on the core while the
// peer's figure is not; on an idle core the two agree (the wall-clock rate is printed as well).
#include <time.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <regex>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "bench_util.h"
#include "lunal/attest/snp/evidence_input.h"
#include "lunal/attest/snp/verify.h"

namespace lunal::bench {
namespace {

namespace fs = std::filesystem;
namespace snp = attest::snp;

struct Sample {
  Bytes report;
  snp::VerifyOptions options;
};

double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// Like OpsPerSecond (bench_util.h), but per second of this thread's CPU time; also returns the
// wall-clock rate. Bounded: stops after `cpu_seconds` of CPU or 10× that of wall time.
template <typename Op>
std::pair<double, double> OpsPerCpuSecond(Op&& op, double cpu_seconds, int batch = 64) {
  using Clock = std::chrono::steady_clock;
  for (int i = 0; i < batch; ++i) op();  // warm-up
  const double cpu_start = ThreadCpuSeconds();
  const auto wall_start = Clock::now();
  const auto wall_deadline = wall_start + std::chrono::duration<double>(10 * cpu_seconds);
  long long ops = 0;
  double cpu = 0;
  do {
    for (int i = 0; i < batch; ++i) op();
    ops += batch;
    cpu = ThreadCpuSeconds() - cpu_start;
  } while (cpu < cpu_seconds && Clock::now() < wall_deadline);
  const double wall = std::chrono::duration<double>(Clock::now() - wall_start).count();
  return {static_cast<double>(ops) / cpu, static_cast<double>(ops) / wall};
}

}  // namespace
}  // namespace lunal::bench

int main() {
  using namespace lunal;
  using namespace lunal::bench;
  const fs::path snp_data =
      SharedDir() / "evidence/lunal-attestation-rs/crates/attestation/test_data/snp";
  std::vector<Sample> samples;
  for (auto [report, vcek, at] :
       {std::tuple{"live-report-v5-genoa.bin", "live-vcek-genoa.der", "2029-08-19T11:01:36Z"},
        std::tuple{"test-report.bin", "test-vcek.der", "2026-07-26T05:58:26Z"}}) {
    auto decoded = snp::DecodeReportContainer(ReadFile(snp_data / report));
    auto as_of = ParseRfc3339(at);
    if (!decoded.ok() || !as_of.ok()) return std::fprintf(stderr, "%s: cannot read\n", report), 1;
    samples.push_back(
        {decoded->report, {.as_of = *as_of, .signing_cert = ReadFile(snp_data / vcek)}});
  }

  snp::Verifier warm;
  std::size_t i = 0, failures = 0;
  auto [warm_rate, warm_wall] = OpsPerCpuSecond(
      [&] {
        const Sample& s = samples[i++ % samples.size()];
        if (!warm.Verify(s.report, s.options).ok()) ++failures;
      },
      3.0);
  auto [cold_rate, cold_wall] = OpsPerCpuSecond(
      [&] {
        const Sample& s = samples[i++ % samples.size()];
        if (!snp::VerifyReport(s.report, s.options).ok()) ++failures;
      },
      3.0, 8);
  if (failures > 0) return std::fprintf(stderr, "%zu verifications failed\n", failures), 1;

  double bound = OpenSslEcdsaVerifyRate("ecdsap384", "nistp384", 3);
  std::printf("# wall-clock rates: warm %.1f/s, cold %.1f/s\n", warm_wall, cold_wall);
  PrintResult("snp_verify_warm", warm_rate, bound, "ops/s");
  PrintResult("snp_verify_cold", cold_rate, bound, "ops/s");
  return 0;
}
