// ParseEventLog: the TCG crypto-agile event log as a TDX CCEL holds it (TCG PC Client Platform
// Firmware Profile r1.06 §10 "Event Logging"; docs/formats/tdx-event-log.md). Every byte is
// read through lunal::ByteReader.
//
//   record 0 (TCG_PCClientPCREvent, SHA-1 format)   records 1..n (TCG_PCR_EVENT2)
//   | pcrIndex u32 | eventType u32 = 3 | digest[20] = 0 | eventSize u32 | TCG_EfiSpecIDEvent |
//   | pcrIndex u32 | eventType u32 | count u32 | {algId u16, digest[size(algId)]} x count |
//     eventSize u32 | event[eventSize] | ... | blank fill (0xFF.. or 0x00..) to the region's end
//
//   TCG_EfiSpecIDEvent = signature[16] "Spec ID Event03\0" | platformClass u32 |
//     specVersionMinor u8 | specVersionMajor u8 | specErrata u8 | uintnSize u8 |
//     numberOfAlgorithms u32 | {algorithmId u16, digestSize u16} x n | vendorInfoSize u8 |
//     vendorInfo[vendorInfoSize]
#include "lunal/attest/tdx/event_log.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "lunal/common/byte_reader.h"
#include "lunal/common/encoding.h"

namespace lunal::attest::tdx {
namespace {

constexpr std::string_view kSpecIdSignature03{"Spec ID Event03\0", 16};
constexpr std::string_view kSpecIdSignature02{"Spec ID Event02\0", 16};
constexpr std::size_t kSha1Size = 20;
constexpr std::size_t kMaxDigestSize = 64;
constexpr std::size_t kZeroRecordPrefix = 12;  // pcrIndex, eventType, digest count

// The digest size TPM_ALG_ID fixes for the algorithms it names; 0 for others.
std::size_t KnownDigestSize(std::uint16_t id) {
  switch (id) {
    case kTpmAlgSha1:
      return 20;
    case kTpmAlgSha256:
      return 32;
    case kTpmAlgSha384:
      return 48;
    case kTpmAlgSha512:
      return 64;
    case kTpmAlgSm3_256:
      return 32;
    default:
      return 0;
  }
}

bool IsTextByte(std::uint8_t b) {
  return (b >= 0x20 && b < 0x7f) || b == '\n' || b == '\r' || b == '\t';
}

// Raw logs start with a u32 pcrIndex (0 or 1): never text. Text is hex if made of hex digits
// and whitespace only, else base64 (either alphabet, padding optional).
Result<Bytes> DecodeText(ByteSpan bytes, EventLogEncoding& encoding) {
  std::string compact;
  bool hex = true, url = false;
  for (std::uint8_t b : bytes) {
    if (b == ' ' || b == '\n' || b == '\r' || b == '\t') continue;
    compact.push_back(static_cast<char>(b));
    hex = hex && std::isxdigit(b) != 0;
    url = url || b == '-' || b == '_';
  }
  if (hex) {
    encoding = EventLogEncoding::kHex;
    return HexDecode(compact);
  }
  encoding = EventLogEncoding::kBase64;
  return Base64Decode(compact, {.alphabet = url ? Base64Alphabet::kUrl : Base64Alphabet::kStandard,
                                .padding = Base64DecodeOptions::Padding::kOptional});
}

Status CheckAlgorithm(const SpecIdAlgorithm& alg, const std::vector<SpecIdAlgorithm>& seen) {
  const std::size_t known = KnownDigestSize(alg.algorithm_id);
  if (known != 0 && alg.digest_size != known) {
    return Malformed("tdx.event_log.bad_spec_id",
                     "algorithm {} declared with digest size {}, not {}",
                     AlgorithmName(alg.algorithm_id), alg.digest_size, known);
  }
  if (alg.digest_size == 0 || alg.digest_size > kMaxDigestSize) {
    return Malformed("tdx.event_log.bad_spec_id", "algorithm {} declared with digest size {}",
                     AlgorithmName(alg.algorithm_id), alg.digest_size);
  }
  for (const SpecIdAlgorithm& other : seen) {
    if (other.algorithm_id == alg.algorithm_id) {
      return Malformed("tdx.event_log.bad_spec_id", "algorithm {} declared twice",
                       AlgorithmName(alg.algorithm_id));
    }
  }
  return Status();
}

Status CheckSpecIdVersion(const SpecIdEvent& s) {
  // PFP TCG_EfiSpecIDEvent: version 2.0 for crypto-agile logs; uintnSize 1 (UINT32) or 2
  // (UINT64).
  if (s.spec_version_major != 2 || s.spec_version_minor != 0) {
    return Malformed("tdx.event_log.bad_spec_id", "spec version {}.{}, expected 2.0",
                     s.spec_version_major, s.spec_version_minor);
  }
  if (s.uintn_size != 1 && s.uintn_size != 2) {
    return Malformed("tdx.event_log.bad_spec_id", "uintnSize {}, expected 1 or 2", s.uintn_size);
  }
  return Status();
}

Result<std::vector<SpecIdAlgorithm>> ReadAlgorithms(ByteReader& r) {
  LUNAL_ASSIGN_OR_RETURN(std::uint32_t count, r.U32Le("tdx.event_log.spec_id"));
  if (count == 0 || count > kMaxAlgorithms) {
    return Malformed("tdx.event_log.bad_spec_id", "numberOfAlgorithms {} (must be 1..{})", count,
                     kMaxAlgorithms);
  }
  std::vector<SpecIdAlgorithm> algorithms;
  for (std::uint32_t i = 0; i < count; ++i) {
    SpecIdAlgorithm alg{};
    LUNAL_ASSIGN_OR_RETURN(alg.algorithm_id, r.U16Le("tdx.event_log.spec_id.algorithm"));
    LUNAL_ASSIGN_OR_RETURN(alg.digest_size, r.U16Le("tdx.event_log.spec_id.algorithm"));
    LUNAL_RETURN_IF_ERROR(CheckAlgorithm(alg, algorithms));
    algorithms.push_back(alg);
  }
  return algorithms;
}

Result<SpecIdEvent> ReadSpecId(ByteReader& r) {
  LUNAL_ASSIGN_OR_RETURN(ByteSpan signature, r.Bytes(16, "tdx.event_log.spec_id"));
  if (AsStringView(signature) == kSpecIdSignature02) {
    return Unsupported("tdx.event_log.not_crypto_agile",
                       "\"Spec ID Event02\": a TCG 1.2 SHA-1 log, not a crypto-agile one");
  }
  if (AsStringView(signature) != kSpecIdSignature03) {
    return Malformed("tdx.event_log.bad_spec_id", "signature is not \"Spec ID Event03\"");
  }
  SpecIdEvent s;
  LUNAL_ASSIGN_OR_RETURN(s.platform_class, r.U32Le("tdx.event_log.spec_id"));
  LUNAL_ASSIGN_OR_RETURN(s.spec_version_minor, r.U8("tdx.event_log.spec_id"));
  LUNAL_ASSIGN_OR_RETURN(s.spec_version_major, r.U8("tdx.event_log.spec_id"));
  LUNAL_ASSIGN_OR_RETURN(s.spec_errata, r.U8("tdx.event_log.spec_id"));
  LUNAL_ASSIGN_OR_RETURN(s.uintn_size, r.U8("tdx.event_log.spec_id"));
  LUNAL_RETURN_IF_ERROR(CheckSpecIdVersion(s));
  LUNAL_ASSIGN_OR_RETURN(s.algorithms, ReadAlgorithms(r));
  LUNAL_ASSIGN_OR_RETURN(std::uint8_t vendor_size, r.U8("tdx.event_log.spec_id.vendor_info"));
  LUNAL_ASSIGN_OR_RETURN(ByteSpan vendor,
                         r.Bytes(vendor_size, "tdx.event_log.spec_id.vendor_info"));
  s.vendor_info.assign(vendor.begin(), vendor.end());
  LUNAL_RETURN_IF_ERROR(r.ExpectEnd("tdx.event_log.spec_id"));
  return s;
}

// Record 0: the SHA-1-format TCG_PCClientPCREvent carrying the Spec ID event (PFP §10).
Status ReadHeader(ByteReader& r, EventLog& log) {
  LUNAL_ASSIGN_OR_RETURN(log.header_mr_index, r.U32Le("tdx.event_log.header"));
  LUNAL_ASSIGN_OR_RETURN(std::uint32_t type, r.U32Le("tdx.event_log.header"));
  if (type != kEvNoAction) {
    return Unsupported("tdx.event_log.not_crypto_agile",
                       "first record has event type {}, not EV_NO_ACTION with a Spec ID event: "
                       "a TCG 1.2 SHA-1 log, not a crypto-agile one",
                       EventTypeName(type));
  }
  LUNAL_RETURN_IF_ERROR(r.ExpectZero(kSha1Size, "tdx.event_log.header.digest"));
  LUNAL_ASSIGN_OR_RETURN(std::uint32_t size, r.U32Le("tdx.event_log.header"));
  LUNAL_ASSIGN_OR_RETURN(ByteReader spec, r.Sub(size, "tdx.event_log.spec_id"));
  LUNAL_ASSIGN_OR_RETURN(log.spec_id, ReadSpecId(spec));
  for (const SpecIdAlgorithm& alg : log.spec_id.algorithms) {
    if (alg.algorithm_id == kTpmAlgSha384) return Status();
  }
  return Unsupported(
      "tdx.event_log.no_sha384",
      "the log declares no SHA-384 digests, which RTMRs need (TDX CCELs use SHA-384)");
}

const SpecIdAlgorithm* FindAlgorithm(const SpecIdEvent& spec, std::uint16_t id) {
  for (const SpecIdAlgorithm& alg : spec.algorithms) {
    if (alg.algorithm_id == id) return &alg;
  }
  return nullptr;
}

Result<EventDigest> ReadDigest(ByteReader& r, const SpecIdEvent& spec, const Event& event) {
  LUNAL_ASSIGN_OR_RETURN(std::uint16_t id, r.U16Le("tdx.event_log.event.digest"));
  const SpecIdAlgorithm* alg = FindAlgorithm(spec, id);
  if (alg == nullptr) {
    return Malformed("tdx.event_log.unknown_algorithm",
                     "digest of algorithm {} at offset {}, which the Spec ID header does not "
                     "declare",
                     AlgorithmName(id), r.offset() - 2);
  }
  if (event.DigestFor(id) != nullptr) {
    return Malformed("tdx.event_log.duplicate_algorithm", "two {} digests", AlgorithmName(id));
  }
  LUNAL_ASSIGN_OR_RETURN(ByteSpan digest, r.Bytes(alg->digest_size, "tdx.event_log.event.digest"));
  return EventDigest{.algorithm_id = id, .digest = Bytes(digest.begin(), digest.end())};
}

// One TCG_PCR_EVENT2 (PFP §10, crypto-agile log entry).
Result<Event> ReadEvent(ByteReader& r, const SpecIdEvent& spec, std::size_t number) {
  Event event;
  event.number = number;
  event.offset = r.offset();
  LUNAL_ASSIGN_OR_RETURN(event.mr_index, r.U32Le("tdx.event_log.event"));
  LUNAL_ASSIGN_OR_RETURN(event.event_type, r.U32Le("tdx.event_log.event"));
  LUNAL_ASSIGN_OR_RETURN(std::uint32_t count, r.U32Le("tdx.event_log.event"));
  // Every record carries one digest per declared bank (as Linux requires); a larger count is
  // never read as a loop bound.
  if (count != spec.algorithms.size()) {
    return Malformed("tdx.event_log.bad_digest_count",
                     "{} digests, but the Spec ID header declares {} algorithms", count,
                     spec.algorithms.size());
  }
  for (std::uint32_t i = 0; i < count; ++i) {
    LUNAL_ASSIGN_OR_RETURN(EventDigest digest, ReadDigest(r, spec, event));
    event.digests.push_back(std::move(digest));
  }
  LUNAL_ASSIGN_OR_RETURN(std::uint32_t size, r.U32Le("tdx.event_log.event"));
  LUNAL_ASSIGN_OR_RETURN(ByteSpan data, r.Bytes(size, "tdx.event_log.event.data"));
  event.data.assign(data.begin(), data.end());
  return event;
}

// The fill byte if the unread bytes start a blank record: pcrIndex 0xFFFFFFFF (erased flash, the
// CCEL's initial state; Linux and go-eventlog stop there) or twelve zero bytes (a zeroed region;
// a real record never has a digest count of 0).
std::optional<std::uint8_t> BlankFill(const ByteReader& r) {
  ByteSpan rest = r.rest();
  ByteSpan ff_prefix = rest.first(std::min<std::size_t>(rest.size(), 4));
  if (std::all_of(ff_prefix.begin(), ff_prefix.end(), [](std::uint8_t b) { return b == 0xFF; })) {
    return std::uint8_t{0xFF};
  }
  ByteSpan zero_prefix = rest.first(std::min(rest.size(), kZeroRecordPrefix));
  if (std::all_of(zero_prefix.begin(), zero_prefix.end(), [](std::uint8_t b) { return b == 0; })) {
    return std::uint8_t{0};
  }
  return std::nullopt;
}

Status CheckBlank(const ByteReader& r, std::uint8_t fill) {
  ByteSpan rest = r.rest();
  auto bad = std::find_if(rest.begin(), rest.end(), [fill](std::uint8_t b) { return b != fill; });
  if (bad == rest.end()) return Status();
  return Malformed("tdx.event_log.padding.not_blank",
                   "the log ends at offset {} (a blank record of 0x{:02x}), but byte 0x{:02x} at "
                   "offset {} is not blank",
                   r.offset(), fill, *bad,
                   r.offset() + static_cast<std::size_t>(bad - rest.begin()));
}

}  // namespace

const Bytes* Event::DigestFor(std::uint16_t algorithm_id) const {
  for (const EventDigest& d : digests) {
    if (d.algorithm_id == algorithm_id) return &d.digest;
  }
  return nullptr;
}

// 1. Unwrap text (hex, base64).  2. Record 0: the Spec ID header, its algorithms, SHA-384 among
// them.  3. TCG_PCR_EVENT2 records until the input ends or a blank record starts.  4. The rest
// must be blank.
Result<EventLog> ParseEventLog(ByteSpan input) {
  EventLog log;
  Bytes decoded;
  if (input.empty()) return Malformed("tdx.event_log.empty", "the event log is empty");
  if (std::all_of(input.begin(), input.end(), IsTextByte)) {  // 1
    LUNAL_ASSIGN_OR_RETURN(decoded, DecodeText(input, log.encoding));
    input = decoded;
  }
  ByteReader r(input);
  LUNAL_RETURN_IF_ERROR(ReadHeader(r, log));  // 2
  while (!r.empty()) {                        // 3
    if (std::optional<std::uint8_t> fill = BlankFill(r)) {
      log.padding = r.remaining();
      LUNAL_RETURN_IF_ERROR(CheckBlank(r, *fill));  // 4
      break;
    }
    if (log.events.size() == kMaxEvents) {
      return ResourceExhausted("tdx.event_log.too_many_events",
                               "more than {} events (the next at offset {})", kMaxEvents,
                               r.offset());
    }
    const std::size_t number = log.events.size() + 1, offset = r.offset();
    auto event = ReadEvent(r, log.spec_id, number);
    if (!event.ok()) {
      return event.error().WithContext(fmt::format("event {} at offset {}: ", number, offset));
    }
    log.events.push_back(std::move(event).value());
  }
  const std::size_t end = input.size() - log.padding;
  log.bytes.assign(input.begin(), input.begin() + static_cast<std::ptrdiff_t>(end));
  return log;
}

}  // namespace lunal::attest::tdx
