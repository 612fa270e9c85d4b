// Test support for attest/sim: a simulation root in a temporary directory, an attester with
// boot measurements, its collateral pool and a verifier that trusts the root as simulated, all
// at an injected time.
#pragma once

#include <gtest/gtest.h>

#include <array>
#include <memory>
#include <string>

#include "lunal/attest/sim/sim_tdx.h"
#include "lunal/attest/sim/simulation_root.h"
#include "lunal/attest/tdx/collateral_pool.h"
#include "lunal/attest/tdx/verify.h"
#include "lunal/common/time.h"
#include "lunal/crypto/digest.h"
#include "lunal/testing/testing.h"

namespace lunal::attest::sim::testing {

inline Timestamp TestStart() { return *ParseRfc3339("2026-03-01T12:00:00Z"); }

inline Bytes Sha384Of(std::string_view text) {
  auto d = crypto::Sha384(AsBytes(text));
  return Bytes(d.begin(), d.end());
}

inline SimTdxConfig TestConfig() {
  SimTdxConfig config{.mr_td = Sha384Of("sandbox image")};
  config.boot_measurements = {
      {.rtmr = 0, .event = ToBytes("lunal.node-agent sha256:1111")},
      {.rtmr = 1, .event = ToBytes("lunal.sandbox-policy sha256:2222")},
      {.rtmr = 2, .event = ToBytes("lunal.sandbox-runtime sha256:3333")},
      {.rtmr = 1, .event = ToBytes("lunal.sandbox-policy.extra sha256:4444")},
  };
  return config;
}

inline std::array<std::uint8_t, kReportDataSize> ReportData(std::uint8_t seed) {
  std::array<std::uint8_t, kReportDataSize> out{};
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<std::uint8_t>(seed + i * 7);
  return out;
}

struct SimWorld {
  lunal::testing::TempDir dir;
  FakeClock clock{TestStart()};
  std::shared_ptr<const SimulationRoot> root;
  std::unique_ptr<SimTdxAttester> attester;
  std::shared_ptr<const tdx::CollateralPool> pool;
  std::unique_ptr<tdx::Verifier> verifier;  // sim root as a simulated anchor only

  // Fails the test (and leaves members null) on error.
  void Init() {
    auto opened = SimulationRoot::Open(dir / "state", clock);
    ASSERT_TRUE(opened.ok()) << opened.error();
    root = *opened;
    auto created = SimTdxAttester::Create(root, TestConfig());
    ASSERT_TRUE(created.ok()) << created.error();
    attester = std::move(created).value();
    auto files = root->Collateral(clock.Now());
    ASSERT_TRUE(files.ok()) << files.error();
    pool = tdx::CollateralPool::Build(*files, root->PoolOptions());
    verifier = std::make_unique<tdx::Verifier>(pool, std::vector<crypto::TrustAnchor>{},
                                               std::vector<crypto::TrustAnchor>{root->Anchor()});
  }
};

}  // namespace lunal::attest::sim::testing
