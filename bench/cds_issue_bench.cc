// CDS certificate issuance rate on one core, verification included, against the engine's bare
// verification rate for the same kind of evidence measured in the same run.
//
//   RESULT cds_issue ours=<certificates/s> peer=<engine verifies/s> unit=ops/s
//
// Each issuance is the whole Cds::IssueCertificate pipeline: consume the nonce (a SQLite write
// transaction, synchronous=FULL), parse and check the CSR, verify the sim-tdx evidence through
// the engine (quote and QE signatures, PCK chain, collateral, event-log replay), recompute the
// REPORT_DATA binding, appraise against the allow-list, sign the certificate (ECDSA P-256) and
// record it in the registry (a second write transaction). The instances' work (quotes, CSRs) and
// the challenges are prepared before the clock starts. The peer is LocalVerifier::Verify alone
// on one of the same envelopes: ratio = the share of the time the CDS spends verifying.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <vector>

#include "bench_util.h"
#include "lunal/attest/engine/sim_source.h"
#include "lunal/attest/engine/verifier.h"
#include "lunal/attest/report_data.h"
#include "lunal/attest/sim/sim_tdx.h"
#include "lunal/attest/sim/simulation_root.h"
#include "lunal/attest/tdx/event_log_lunal.h"
#include "lunal/cds/cds.h"
#include "lunal/cds/instance.h"
#include "lunal/crypto/csr.h"
#include "lunal/crypto/digest.h"
#include "lunal/crypto/dsse.h"

int main() {
  using namespace lunal;
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("lunal-cds-bench-" + std::to_string(getpid()));
  fs::create_directories(dir);
  struct Cleanup {
    fs::path p;
    ~Cleanup() {
      std::error_code ec;
      fs::remove_all(p, ec);
    }
  } cleanup{dir};
  auto fail = [](const Status& s) {
    std::fprintf(stderr, "%s\n", s.ToString().c_str());
    return 1;
  };

  const Clock& clock = SystemClock::Instance();
  auto root = attest::sim::SimulationRoot::Open(dir / "sim", clock);
  if (!root.ok()) return fail(root.error());
  std::shared_ptr<const attest::engine::EvidenceVerifier> verifier =
      attest::engine::MakeLocalVerifier({.collateral = attest::engine::MakeSimulationSource(*root),
                                         .simulated_anchors = {(*root)->Anchor()},
                                         .clock = &clock});
  auto op = crypto::PrivateKey::Generate(crypto::KeyType::kEcP256);
  auto cds = cds::Cds::Open({.state_dir = dir / "cds",
                             .operator_key_pem = *(*op->PublicKey()).ToPem(),
                             .verifier = verifier,
                             .nonce_ttl = std::chrono::seconds(3600)});
  if (!cds.ok()) return fail(cds.error());
  const std::string build_hash = "sha256:" + std::string(64, 'a');
  Json payload = {{"version", 1},
                  {"issued_at", "2026-11-21T12:00:00Z"},
                  {"entries",
                   {{{"tenant", "bench"},
                     {"deployment", "api"},
                     {"build_hashes", {build_hash}},
                     {"allow_simulated", true}}}}};
  crypto::DsseEnvelope env{.payload_type = std::string(cds::kAllowListPayloadType),
                           .payload = ToBytes(payload.dump()),
                           .signatures = {}};
  env.signatures.push_back(*crypto::SignDsse(env, *op, "operator"));
  if (Status s = (*cds)->PutManifest(crypto::SerializeDsse(env)); !s.ok()) return fail(s);

  const auto image = crypto::Sha384(AsBytes("bench image"));
  auto attester =
      attest::sim::SimTdxAttester::Create(*root, {.mr_td = Bytes(image.begin(), image.end())});
  if (!attester.ok()) return fail(attester.error());
  auto event = attest::tdx::EncodeLunalEvent(
      {.type = attest::tdx::LunalEventType::kBuildHash, .value = build_hash});
  if (Status s = (*attester)->ExtendRtmr(3, crypto::Sha384(*event), *event); !s.ok())
    return fail(s);

  // The requests, prepared off the clock.
  constexpr int kRequests = 600;
  auto key = crypto::PrivateKey::Generate(crypto::KeyType::kEcP256);
  const Bytes spki = *(*key->PublicKey()).ToSpkiDer();
  const std::string csr = *crypto::BuildCsrPem(*key, "i-1");
  std::vector<cds::CertificateRequest> requests;
  for (int i = 0; i < kRequests; ++i) {
    auto challenge = (*cds)->NewChallenge();
    if (!challenge.ok()) return fail(challenge.error());
    auto rd = attest::ReportDataFor(
        {.key_spki_der = spki, .nonce = challenge->nonce, .build_hash = build_hash});
    auto evidence = (*attester)->Attest(*rd);
    if (!evidence.ok()) return fail(evidence.error());
    requests.push_back({.evidence = ToBytes(cds::EvidenceEnvelope(*evidence).dump()),
                        .csr_pem = csr,
                        .nonce = challenge->nonce,
                        .tenant = "bench",
                        .deployment = "api",
                        .instance = "i-" + std::to_string(i)});
  }

  // Peer: the engine alone on the same evidence.
  const attest::engine::VerifyRequest peer_request{.evidence = requests.front().evidence};
  int peer_failures = 0;
  const double peer = bench::OpsPerSecond(
      [&] {
        auto r = verifier->Verify(peer_request);
        if (!r.ok() || r->verdict != attest::engine::Verdict::kVerified) ++peer_failures;
      },
      2.0, 16);

  const auto start = std::chrono::steady_clock::now();
  for (const auto& request : requests) {
    auto issued = (*cds)->IssueCertificate(request);
    if (!issued.ok()) return fail(issued.error());
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (peer_failures > 0) return std::fprintf(stderr, "peer verification failed\n"), 1;
  bench::PrintResult("cds_issue", kRequests / seconds, peer, "ops/s");
  return 0;
}
