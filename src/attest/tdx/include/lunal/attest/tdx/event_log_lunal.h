// Lunal's own RTMR3 events (DESIGN.md "Binding formats"): the instance agent extends RTMR3 with
// typed events, and the verifier finds them again in the replayed event log.
//
// Encoding (docs/formats/tdx-event-log.md, "Lunal events"), fixed so that every component agrees:
//   TCG_PCR_EVENT2 { pcrIndex = 4 (CC MR index of RTMR3), eventType = EV_EVENT_TAG (0x6),
//                    digests = one per algorithm of the log, each over the event field,
//                    event = TCG_PCClientTaggedEvent {
//                      taggedEventID = kLunalTaggedEventId (the bytes "LUNL"),
//                      taggedEventDataSize = n,
//                      taggedEventData = canonical JSON {"type":"lunal.build-hash","value":"…"} } }
// The RTMR3 extend value is SHA-384 of the whole event field (tag id, size and JSON), so one
// event has exactly one encoding and one digest.
//
//   LUNAL_ASSIGN_OR_RETURN(Bytes event, EncodeLunalEvent({LunalEventType::kBuildHash, hash}));
//   auto digest = crypto::Sha384(event);   // what TDG.MR.RTMR.EXTEND receives for RTMR3
//
// Pure functions; thread-safe.
//
// Errors (stable reasons):
//   kInvalidArgument tdx.event_log.lunal.bad_value (encoding a value that is not of its type's
//                    form: "sha256:<64 lowercase hex>" for hashes, 1..128 of [A-Za-z0-9._:-] for
//                    instance ids)
//   kMalformed       tdx.event_log.lunal.wrong_tag (not Lunal's tagged event id),
//                    tdx.event_log.lunal.truncated, tdx.event_log.lunal.data.truncated,
//                    tdx.event_log.lunal.trailing_bytes, tdx.event_log.lunal.too_large,
//                    tdx.event_log.lunal.malformed (not a JSON object of exactly the two string
//                    members "type" and "value"), tdx.event_log.lunal.not_canonical,
//                    tdx.event_log.lunal.bad_value, json.* from the JSON parser
//   kUnsupported     tdx.event_log.lunal.unknown_type
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "lunal/common/bytes.h"
#include "lunal/common/result.h"

namespace lunal::attest::tdx {

// TCG_PCClientTaggedEvent.taggedEventID of Lunal events: the ASCII bytes "LUNL" read as a
// little-endian UINT32. Other EV_EVENT_TAG users (the Linux EFI stub: 0x8F3B22EC/ED) differ.
inline constexpr std::uint32_t kLunalTaggedEventId = 0x4C4E554C;
// The CC MR index Lunal events are logged under: 4 = RTMR3 (MRTD is 0, RTMR0 is 1).
inline constexpr std::uint32_t kLunalMrIndex = 4;
// Upper bound on taggedEventDataSize; a Lunal event is well under 200 bytes.
inline constexpr std::size_t kMaxLunalEventData = 1024;

enum class LunalEventType {
  kBuildHash,   // "lunal.build-hash": the build hash, "sha256:<hex>"
  kConfigHash,  // "lunal.config-hash": digest of the instance configuration, "sha256:<hex>"
  kInstanceId,  // "lunal.instance-id": the instance's id
};

// "lunal.build-hash", "lunal.config-hash", "lunal.instance-id".
std::string_view LunalEventTypeName(LunalEventType type);

struct LunalEvent {
  LunalEventType type = LunalEventType::kBuildHash;
  std::string value;

  friend bool operator==(const LunalEvent&, const LunalEvent&) = default;
};

// The canonical JSON of the event ({"type":…,"value":…}, keys sorted, no whitespace).
Result<std::string> LunalEventJson(const LunalEvent& event);

// The TCG_PCClientTaggedEvent bytes: the event field of the log record and the SHA-384 input.
Result<Bytes> EncodeLunalEvent(const LunalEvent& event);

// True if `event_data` starts with Lunal's tagged event id: the event claims to be Lunal's, and
// DecodeLunalEvent must then succeed for the log to be acceptable.
bool ClaimsLunalEvent(ByteSpan event_data);

// Decodes an event field written by EncodeLunalEvent; accepts nothing else (exact size, known
// type, valid value, canonical JSON).
Result<LunalEvent> DecodeLunalEvent(ByteSpan event_data);

}  // namespace lunal::attest::tdx
