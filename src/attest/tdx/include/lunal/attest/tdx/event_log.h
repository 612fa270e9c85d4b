// The TDX event log (CCEL: the ACPI "CC Event Log" region), in the TCG crypto-agile format, and
// the replay of RTMR0-3 from it.
//
//   LUNAL_ASSIGN_OR_RETURN(EventLog log, ParseEventLog(file_bytes));        // layer 2: structure
//   LUNAL_ASSIGN_OR_RETURN(EventLogCheck check, CheckEventLog(log, verified.rtmr));
//   check.rtmr_match[2];  check.lunal_build_hash;  check.ToJson();
//   LUNAL_RETURN_IF_ERROR(RequireRtmrMatch(check));                          // strict callers
//
// Format, index mapping and the checks: docs/formats/tdx-event-log.md. In a CCEL the pcrIndex
// field is the CC measurement register index (UEFI 2.10 §38.1 and the table in §38.4.1; TDX GHCI
// 1.5): 0 = MRTD, 1..4 = RTMR0..3. An event is replayed by
// RTMR[i] = SHA-384(RTMR[i] ‖ SHA-384 digest of the event), from 48 zero bytes (TDX module ABI,
// TDG.MR.RTMR.EXTEND). EV_NO_ACTION events extend nothing.
//
// The log is evidence from the untrusted side: nothing in it means anything until a replay
// matches RTMRs taken from a verified quote. Event data is NOT covered by the replay (only the
// digests are), so descriptions are hints; Lunal's own events are the exception, because their
// digest is checked against their data (event_log_lunal.h).
//
// Ownership: an EventLog owns copies of everything (it outlives the input). Thread-safety: the
// types are values; the functions are pure and thread-safe.
//
// Errors (stable reasons; messages give the event number and byte offset):
//   ParseEventLog
//     kMalformed   <field>.truncated for tdx.event_log.header, tdx.event_log.header.digest,
//                  tdx.event_log.spec_id, tdx.event_log.spec_id.algorithm,
//                  tdx.event_log.spec_id.vendor_info, tdx.event_log.event,
//                  tdx.event_log.event.digest, tdx.event_log.event.data;
//                  tdx.event_log.header.digest.not_zero; tdx.event_log.spec_id.trailing_bytes;
//                  tdx.event_log.bad_spec_id (signature, version, uintnSize, algorithm list);
//                  tdx.event_log.bad_digest_count (an event's digest count differs from the
//                  number of algorithms the header declares); tdx.event_log.unknown_algorithm
//                  (a digest of an algorithm the header does not declare);
//                  tdx.event_log.duplicate_algorithm; tdx.event_log.padding.not_blank (after the
//                  first blank record, a byte that is not the fill byte); tdx.event_log.empty;
//                  hex.* / base64.* for text input
//     kUnsupported tdx.event_log.not_crypto_agile (a SHA-1-only TCG 1.2 log),
//                  tdx.event_log.no_sha384 (the header declares no SHA-384 bank)
//     kResourceExhausted tdx.event_log.too_many_events (more than kMaxEvents)
//   ReplayRtmrs    kMalformed tdx.event_log.bad_mr_index (a measured event for MR index 0
//                  (MRTD) or above 4); kVerificationFailed tdx.event_log.lunal.digest_mismatch
//                  (a Lunal event whose data does not hash to its digest: a forged log),
//                  tdx.event_log.lunal.wrong_mr_index; the tdx.event_log.lunal.* decoding errors
//   CheckEventLog  the above, kInvalidArgument tdx.event_log.bad_quote_rtmr (not 48 bytes),
//                  kVerificationFailed tdx.event_log.lunal.duplicate_build_hash
//   RequireRtmrMatch kVerificationFailed tdx.event_log.rtmr_mismatch
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lunal/attest/tdx/event_log_lunal.h"
#include "lunal/common/bytes.h"
#include "lunal/common/json.h"
#include "lunal/common/result.h"

namespace lunal::attest::tdx {

// TCG algorithm identifiers (TCG Algorithm Registry, TPM_ALG_ID) and their digest sizes.
inline constexpr std::uint16_t kTpmAlgSha1 = 0x0004;
inline constexpr std::uint16_t kTpmAlgSha256 = 0x000B;
inline constexpr std::uint16_t kTpmAlgSha384 = 0x000C;
inline constexpr std::uint16_t kTpmAlgSha512 = 0x000D;
inline constexpr std::uint16_t kTpmAlgSm3_256 = 0x0012;

// Event types used by the replay and the builder (TCG PC Client PFP r1.06, Table 9 "Events").
inline constexpr std::uint32_t kEvNoAction = 0x00000003;
inline constexpr std::uint32_t kEvSeparator = 0x00000004;
inline constexpr std::uint32_t kEvEventTag = 0x00000006;
inline constexpr std::uint32_t kEvIpl = 0x0000000D;

inline constexpr std::size_t kRtmrSize = 48;
// Limits against absurd inputs; real CCELs hold tens to a few hundred events.
inline constexpr std::size_t kMaxEvents = 16384;
inline constexpr std::size_t kMaxAlgorithms = 8;

// "EV_IPL", "EV_EFI_VARIABLE_BOOT", ...; "0x%08x" for a type the PFP does not name.
std::string EventTypeName(std::uint32_t event_type);
// "SHA-384", ...; "0x%04x" for others.
std::string AlgorithmName(std::uint16_t algorithm_id);

struct SpecIdAlgorithm {
  std::uint16_t algorithm_id;
  std::uint16_t digest_size;
};

// TCG_EfiSpecIDEvent ("Spec ID Event03"), the event of the log's first record.
struct SpecIdEvent {
  std::uint32_t platform_class = 0;
  std::uint8_t spec_version_minor = 0;
  std::uint8_t spec_version_major = 2;
  std::uint8_t spec_errata = 0;
  std::uint8_t uintn_size = 2;
  std::vector<SpecIdAlgorithm> algorithms;
  Bytes vendor_info;
};

struct EventDigest {
  std::uint16_t algorithm_id;
  Bytes digest;
};

// One TCG_PCR_EVENT2 record.
struct Event {
  std::size_t number = 0;      // 1-based position after the Spec ID header (the header is 0)
  std::size_t offset = 0;      // of the record, in the raw log
  std::uint32_t mr_index = 0;  // the pcrIndex field: CC MR index (1..4 = RTMR0..3)
  std::uint32_t event_type = 0;
  std::vector<EventDigest> digests;  // in log order, one per declared algorithm
  Bytes data;                        // the event field (unverified)

  // The digest for `algorithm_id`, or nullptr.
  const Bytes* DigestFor(std::uint16_t algorithm_id) const;
};

enum class EventLogEncoding { kRaw, kHex, kBase64 };

struct EventLog {
  EventLogEncoding encoding = EventLogEncoding::kRaw;
  std::uint32_t header_mr_index = 0;  // pcrIndex of the Spec ID record (0 by TCG, 1 by TDVF)
  SpecIdEvent spec_id;
  std::vector<Event> events;
  Bytes bytes;              // the raw log through its last record (no padding)
  std::size_t padding = 0;  // blank bytes after the last record (0xFF or 0x00 fill)
};

// Parses a crypto-agile log from the first byte of `bytes`: raw, or as hex or base64 text.
// Stops at the first blank record (pcrIndex 0xFFFFFFFF, as Linux and go-eventlog do, or twelve
// zero bytes) and then requires the rest to be that fill byte.
Result<EventLog> ParseEventLog(ByteSpan bytes);

// TDG.MR.RTMR.EXTEND: rtmr = SHA-384(rtmr ‖ event_digest); both 48 bytes
// (kInvalidArgument tdx.event_log.bad_extend_size otherwise).
Status ExtendRtmr(Bytes& rtmr, ByteSpan event_digest);

struct ReplayedEvent {
  std::size_t number;  // Event::number
  std::size_t rtmr;    // 0..3
  std::uint32_t event_type;
  std::string type_name;    // EventTypeName(event_type)
  Bytes digest;             // the SHA-384 digest extended
  std::string description;  // a short printable hint from the (unverified) data, ≤ 100 chars
  std::optional<LunalEvent> lunal;  // a Lunal event whose data hashes to `digest`
};

struct RtmrReplay {
  std::array<Bytes, 4> rtmr;                         // replayed values, 48 bytes each
  std::array<std::vector<ReplayedEvent>, 4> events;  // per RTMR, in log order
  std::size_t no_action_events = 0;                  // EV_NO_ACTION records (not extended)
};

Result<RtmrReplay> ReplayRtmrs(const EventLog& log);

// The value of the one lunal.build-hash event in the replayed RTMR3, if any. Two are an error
// (tdx.event_log.lunal.duplicate_build_hash). Meaningful only when RTMR3 matched a quote.
Result<std::optional<std::string>> FindLunalBuildHash(const RtmrReplay& replay);

// The "event_log" object of the verification record.
struct EventLogCheck {
  std::array<bool, 4> rtmr_match{};
  bool all_match = false;
  std::array<Bytes, 4> quote_rtmr;
  RtmrReplay replay;
  // Set only when RTMR3 matches: the build hash the instance agent measured.
  std::optional<std::string> lunal_build_hash;

  // {"replayed": true, "rtmr_match": [...], "all_match", "build_hash_event", "build_hash"?,
  //  "rtmrs": [{"rtmr", "quote", "replayed", "match", "events"}], "events": [...]}
  Json ToJson() const;
};

// Replays `log` and compares with the quote's RTMR0..3 (TdxVerification::rtmr). A mismatch is
// reported per RTMR, not as an error.
Result<EventLogCheck> CheckEventLog(const EventLog& log, const std::array<Bytes, 4>& quote_rtmr);

// OK when every RTMR matched; else kVerificationFailed tdx.event_log.rtmr_mismatch naming each
// RTMR that differs with the quote's and the replayed values.
Status RequireRtmrMatch(const EventLogCheck& check);

}  // namespace lunal::attest::tdx
