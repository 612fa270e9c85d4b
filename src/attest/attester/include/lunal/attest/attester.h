// Attesters: produce evidence about the TEE this process runs in (DESIGN.md "The simulated TEE").
//
// One interface, several backends:
//   configfs-tsm  Linux's /sys/kernel/config/tsm/report (TDX and SEV-SNP alike; configfs_tsm.h),
//                 with the /dev/tdx_guest and /dev/sev-guest ioctls as fallbacks
//                 (guest_device.h); DetectAttester (detect_attester.h) picks one of them
//   sim-tdx       the simulated TDX backend: real TDX v4 quotes under a per-installation
//                 "Lunal Simulation Root CA" (src/attest/sim)
//
// Evidence is what a verifier needs besides vendor collateral: the quote or report, the
// auxiliary blob the kernel returned (SNP: the certificate table holding the VCEK/VLEK), and the
// event log that replays to the RTMRs. An attester never judges its own evidence.
//
// Thread-safety: implementations serialise their own calls; one attester may be shared.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "lunal/common/bytes.h"
#include "lunal/common/result.h"
#include "lunal/common/status.h"

namespace lunal::attest {

enum class TeeType : std::uint8_t { kTdx, kSnp };

// "tdx", "snp": the evidence envelope's "platform" value.
constexpr std::string_view TeeTypeName(TeeType type) {
  return type == TeeType::kTdx ? "tdx" : "snp";
}

inline constexpr std::size_t kReportDataSize = 64;

struct Evidence {
  TeeType tee = TeeType::kTdx;
  Bytes quote;           // the TDX quote or the SNP attestation report, exactly as produced
  Bytes aux_blob;        // configfs auxblob (SNP: GUID-keyed certificate table); may be empty
  Bytes event_log;       // TDX: CC event log (CCEL, TCG crypto-agile) replaying to the RTMRs
  std::string provider;  // configfs "provider" ("tdx_guest", "sev_guest") or "lunal_sim_tdx"
  std::uint64_t generation = 0;  // configfs generation the blobs were read at (0 elsewhere)
  bool simulated = false;        // true only for sim-tdx
};

class Attester {
 public:
  virtual ~Attester() = default;

  // "configfs-tsm", "tdx-guest", "sev-guest", "sim-tdx".
  virtual std::string_view Name() const = 0;
  virtual TeeType Tee() const = 0;

  // Evidence whose REPORT_DATA is exactly `report_data`.
  virtual Result<Evidence> Attest(std::span<const std::uint8_t, kReportDataSize> report_data) = 0;

  // Extends RTMR `index` (0..3) with SHA-384 `digest` and appends `event` (the event field of
  // a TCG_PCR_EVENT2 record, EV_EVENT_TAG) to the event log. TDX only; backends that cannot
  // extend return kUnsupported "attest.rtmr.unsupported".
  virtual Status ExtendRtmr(int index, ByteSpan digest, ByteSpan event) = 0;
};

}  // namespace lunal::attest
