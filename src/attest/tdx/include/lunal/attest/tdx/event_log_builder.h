// Writes crypto-agile TDX event logs: a new one (for the simulated TDX attester) or the
// continuation of an existing one (the instance agent appending its RTMR3 events to the CCEL).
//
//   EventLogBuilder builder = EventLogBuilder::New();
//   LUNAL_ASSIGN_OR_RETURN(Bytes digest, builder.AppendLunal({LunalEventType::kBuildHash, hash}));
//   // extend RTMR3 with `digest` (TDG.MR.RTMR.EXTEND), then ship builder.bytes() as the log
//
// Every appended record carries one digest per algorithm the log's header declares, in the
// header's order (SHA-256, SHA-384 and SHA-512 are supported; a log declaring others cannot be
// continued). Layout: docs/formats/tdx-event-log.md. Not thread-safe (a value being built).
//
// Errors: kInvalidArgument tdx.event_log.builder.bad_mr_index (not 1..4),
// tdx.event_log.builder.no_action (EV_NO_ACTION records carry no digests to extend),
// tdx.event_log.builder.too_large; kUnsupported tdx.event_log.builder.unsupported_algorithm;
// kResourceExhausted tdx.event_log.too_many_events; the Lunal encoding errors.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "lunal/attest/tdx/event_log.h"
#include "lunal/attest/tdx/event_log_lunal.h"
#include "lunal/common/bytes.h"
#include "lunal/common/result.h"

namespace lunal::attest::tdx {

class EventLogBuilder {
 public:
  // A log holding only its Spec ID header: pcrIndex 0, "Spec ID Event03", version 2.0 errata 0,
  // UINTN of 8 bytes, one algorithm (SHA-384, 48 bytes), no vendor info.
  static EventLogBuilder New();
  // Continues `log`: its bytes through the last record are kept exactly (padding is dropped).
  static Result<EventLogBuilder> Continue(const EventLog& log);

  // Appends a record for CC MR index `mr_index` (1..4 = RTMR0..3) whose digests are of `data`.
  // Returns the SHA-384 digest: the value the RTMR is to be extended with.
  Result<Bytes> Append(std::uint32_t mr_index, std::uint32_t event_type, ByteSpan data);
  // Appends a Lunal event (MR index 4 = RTMR3, EV_EVENT_TAG); returns its SHA-384 digest.
  Result<Bytes> AppendLunal(const LunalEvent& event);

  const Bytes& bytes() const { return bytes_; }
  std::size_t event_count() const { return event_count_; }

 private:
  EventLogBuilder(Bytes bytes, std::vector<SpecIdAlgorithm> algorithms, std::size_t events)
      : bytes_(std::move(bytes)), algorithms_(std::move(algorithms)), event_count_(events) {}

  Bytes bytes_;
  std::vector<SpecIdAlgorithm> algorithms_;
  std::size_t event_count_ = 0;
};

}  // namespace lunal::attest::tdx
