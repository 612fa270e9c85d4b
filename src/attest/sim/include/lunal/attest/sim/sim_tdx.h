// SimTdxAttester: the "sim-tdx" backend of lunal::attest::Attester (attester.h). It produces real
// Intel TDX v4 quotes (docs/formats/tdx-quote.md) signed by a simulated QE under the
// per-installation simulation root (simulation_root.h), and keeps the TDX measurement registers
// and their event log as a TD would (docs/formats/sim-tdx.md):
//
//   MRTD       = SimTdxConfig::mr_td, the SHA-384 of the sandbox image the instance runs in
//   RTMR0..2   = zero, extended at construction with SimTdxConfig::boot_measurements (the node
//                agent and the sandbox policy), each logged as a TCG_PCR_EVENT2 record
//   RTMR3      = zero, extended by ExtendRtmr (Lunal's events: lunal.build-hash, …)
//   extend     = RTMR_new = SHA-384(RTMR_old ‖ digest) (TDX module ABI, TDG.MR.RTMR.EXTEND)
//
// Evidence: the quote, the TCG crypto-agile event log (SHA-384 bank) that tdx::ReplayRtmrs
// replays to exactly the quote's RTMR0..3, provider "lunal_sim_tdx", simulated = true.
//
//   LUNAL_ASSIGN_OR_RETURN(auto root, SimulationRoot::Open(dir, clock));
//   LUNAL_ASSIGN_OR_RETURN(auto attester, SimTdxAttester::Create(root, {.mr_td = image_digest}));
//   LUNAL_ASSIGN_OR_RETURN(Bytes event, tdx::EncodeLunalEvent({kBuildHash, "sha256:…"}));
//   LUNAL_RETURN_IF_ERROR(attester->ExtendRtmr(3, crypto::Sha384(event), event));
//   LUNAL_ASSIGN_OR_RETURN(Evidence evidence, attester->Attest(report_data));
//
// Errors (stable reasons):
//   Create:     sim.config.bad_mr_td, sim.config.bad_measurement_register,
//               sim.config.bad_measurement, attest.rtmr.lunal_event_not_rtmr3 (kInvalidArgument);
//               event log builder errors
//   ExtendRtmr: attest.rtmr.bad_index (not 0..3), attest.rtmr.bad_digest (not 48 bytes),
//               attest.rtmr.digest_mismatch (digest is not SHA-384(event): the log records the
//               digest of its event field, so any other digest could never replay),
//               attest.rtmr.lunal_event_not_rtmr3 (a Lunal event, event_log_lunal.h, for another
//               RTMR: verifiers refuse such logs) (kInvalidArgument);
//               tdx.event_log.too_many_events (kResourceExhausted)
//   Attest:     crypto.* signing failures (kInternal)
//
// Thread-safety: every method may be called from many threads; RTMR state and the log are
// guarded by one mutex, so each quote and the log returned with it are one consistent snapshot.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string_view>
#include <vector>

#include "lunal/attest/attester.h"
#include "lunal/attest/sim/platform.h"
#include "lunal/attest/sim/simulation_root.h"
#include "lunal/attest/tdx/event_log.h"
#include "lunal/attest/tdx/event_log_builder.h"
#include "lunal/common/bytes.h"
#include "lunal/common/result.h"

namespace lunal::attest::sim {

inline constexpr std::string_view kProvider = "lunal_sim_tdx";

// One measurement taken "at boot": RTMR `rtmr` (0..2) is extended with SHA-384(event) and the
// log gets a record {MR index rtmr + 1, event_type, SHA-384(event), event}.
struct BootMeasurement {
  int rtmr = 0;
  std::uint32_t event_type = tdx::kEvIpl;  // EV_IPL: the event field describes what was loaded
  Bytes event = {};                        // e.g. "lunal.node-agent sha256:…"
};

struct SimTdxConfig {
  Bytes mr_td = {};  // 48 bytes: SHA-384 of the sandbox image (required)
  std::vector<BootMeasurement> boot_measurements = {};
  // 48 bytes each, or empty for zeros (as Lunal's TDs leave them).
  Bytes mr_config_id = {};
  Bytes mr_owner = {};
  Bytes mr_owner_config = {};
  // TD_ATTRIBUTES of the quotes (TDX module ABI, TDREPORT.TDINFO.ATTRIBUTES): default
  // kTdAttributes (SEPT_VE_DISABLE only). Tests set bit 0 (DEBUG) to produce a debug TD's quote.
  std::uint64_t td_attributes = kTdAttributes;
};

class SimTdxAttester final : public Attester {
 public:
  static Result<std::unique_ptr<SimTdxAttester>> Create(std::shared_ptr<const SimulationRoot> root,
                                                        SimTdxConfig config);

  std::string_view Name() const override { return "sim-tdx"; }
  TeeType Tee() const override { return TeeType::kTdx; }
  Result<Evidence> Attest(std::span<const std::uint8_t, kReportDataSize> report_data) override;
  Status ExtendRtmr(int index, ByteSpan digest, ByteSpan event) override;

  // The current RTMR values (48 bytes each) and event log, as the next quote would carry them.
  std::array<Bytes, 4> Rtmrs() const;
  Bytes EventLog() const;

 private:
  SimTdxAttester(std::shared_ptr<const SimulationRoot> root, SimTdxConfig config,
                 tdx::EventLogBuilder log, std::array<Bytes, 4> rtmr);

  const std::shared_ptr<const SimulationRoot> root_;
  const SimTdxConfig config_;
  mutable std::mutex mu_;
  tdx::EventLogBuilder log_;   // guarded by mu_
  std::array<Bytes, 4> rtmr_;  // guarded by mu_
};

}  // namespace lunal::attest::sim
