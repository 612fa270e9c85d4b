// Encoding of a TDX v4 quote by the simulated QE (docs/formats/tdx-quote.md; the offsets are
// those of tdx/quote_layout.h, written field by field at their layout offsets). Private to
// attest/sim.
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "lunal/attest/sim/platform.h"
#include "lunal/attest/sim/simulation_root.h"
#include "lunal/common/bytes.h"
#include "lunal/common/result.h"

namespace lunal::attest::sim::internal {

// What the TD measured; every measurement 48 bytes (empty: zeros), report_data 64 bytes.
struct TdMeasurements {
  ByteSpan mr_td;
  ByteSpan mr_config_id;
  ByteSpan mr_owner;
  ByteSpan mr_owner_config;
  std::array<ByteSpan, 4> rtmr;
  ByteSpan report_data;
  std::uint64_t td_attributes = kTdAttributes;
};

// header ‖ TD1.0 body ‖ u32 signature data length ‖ signature data, where the signature data is
// the attestation key's signature over header ‖ body, the attestation key, and certification
// data type 6 (QE report signed by the PCK key, whose report data binds the attestation key and
// the QE authentication data; the authentication data; certification data type 5 holding the PCK
// chain). Errors: kInternal (sim.quote.bad_field for a wrong-sized input, crypto.* on signing).
Result<Bytes> BuildQuote(const SimulationRoot& root, const TdMeasurements& td);

}  // namespace lunal::attest::sim::internal
