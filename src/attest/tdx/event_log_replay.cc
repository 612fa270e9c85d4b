// RTMR replay of a parsed TDX event log, and its comparison with a quote's RTMRs.
//
// CC MR index → register (UEFI 2.10 §38.4.1, the PCR / CC MR index / TDX register table; TDX
// GHCI 1.5): 0 = MRTD (built by TDH.MEM.PAGE.ADD /
// TDH.MR.EXTEND before the TD runs; never logged for replay), 1 = RTMR0, 2 = RTMR1, 3 = RTMR2,
// 4 = RTMR3. Extend (TDX module ABI, TDG.MR.RTMR.EXTEND): RTMR = SHA-384(RTMR ‖ 48-byte value),
// RTMRs start as 48 zero bytes.
#include <fmt/format.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "event_log_describe.h"
#include "lunal/attest/tdx/event_log.h"
#include "lunal/common/encoding.h"
#include "lunal/crypto/digest.h"

namespace lunal::attest::tdx {
namespace {

constexpr std::uint32_t kMrIndexRtmr0 = 1;
constexpr std::uint32_t kMrIndexRtmr3 = 4;

// A Lunal event is trusted only if its data is what was measured: SHA-384(data) == digest.
// Anything claiming Lunal's tag must decode, sit on RTMR3 and hash to its digest, or the log is
// rejected: a forged or corrupted claim is never silently skipped.
Result<std::optional<LunalEvent>> LunalEventOf(const Event& event, const Bytes& sha384) {
  if (event.event_type != kEvEventTag || !ClaimsLunalEvent(event.data)) return std::nullopt;
  if (event.mr_index != kLunalMrIndex) {
    return VerificationFailed("tdx.event_log.lunal.wrong_mr_index",
                              "event {}: a Lunal event on MR index {}; Lunal events extend RTMR3 "
                              "(MR index 4)",
                              event.number, event.mr_index);
  }
  auto decoded = DecodeLunalEvent(event.data);
  if (!decoded.ok()) return decoded.error().WithContext(fmt::format("event {}: ", event.number));
  const auto computed = crypto::Sha384(event.data);
  if (!std::equal(computed.begin(), computed.end(), sha384.begin(), sha384.end())) {
    return VerificationFailed("tdx.event_log.lunal.digest_mismatch",
                              "event {} ({} {}): its SHA-384 digest {} is not the digest of its "
                              "data {}",
                              event.number, LunalEventTypeName(decoded->type), decoded->value,
                              HexEncode(sha384), HexEncode(computed));
  }
  return std::optional<LunalEvent>(*std::move(decoded));
}

Result<ReplayedEvent> Replayed(const Event& event, const Bytes& sha384) {
  ReplayedEvent out{.number = event.number,
                    .rtmr = event.mr_index - kMrIndexRtmr0,
                    .event_type = event.event_type,
                    .type_name = EventTypeName(event.event_type),
                    .digest = sha384,
                    .description = {},
                    .lunal = std::nullopt};
  LUNAL_ASSIGN_OR_RETURN(out.lunal, LunalEventOf(event, sha384));
  out.description = out.lunal ? internal::ClipDescription(fmt::format(
                                    "{} {}", LunalEventTypeName(out.lunal->type), out.lunal->value))
                              : internal::DescribeEvent(event.event_type, event.data);
  return out;
}

Json EventJson(const ReplayedEvent& e) {
  Json json = {{"number", e.number},
               {"rtmr", e.rtmr},
               {"type", e.type_name},
               {"digest", HexEncode(e.digest)},
               {"description", e.description}};
  if (e.lunal) {
    json["lunal"] = {{"type", LunalEventTypeName(e.lunal->type)}, {"value", e.lunal->value}};
  }
  return json;
}

}  // namespace

Status ExtendRtmr(Bytes& rtmr, ByteSpan event_digest) {
  if (rtmr.size() != kRtmrSize || event_digest.size() != kRtmrSize) {
    return InvalidArgument(
        "tdx.event_log.bad_extend_size",
        "RTMR extend takes a 48-byte register and a 48-byte value, got {} and {}", rtmr.size(),
        event_digest.size());
  }
  crypto::Hasher hasher(crypto::DigestAlgorithm::kSha384);
  hasher.Update(rtmr);
  hasher.Update(event_digest);
  rtmr = hasher.Finish();
  return Status();
}

// 1. Every RTMR starts at 48 zero bytes.  2. In log order, EV_NO_ACTION records are skipped
// (PFP: informational, never extended).  3. Any other record must name RTMR0..3 (MR index 1..4).
// 4. Its SHA-384 digest (the parser guarantees one) extends that RTMR.
Result<RtmrReplay> ReplayRtmrs(const EventLog& log) {
  RtmrReplay replay;
  for (Bytes& rtmr : replay.rtmr) rtmr.assign(kRtmrSize, 0);  // 1
  for (const Event& event : log.events) {
    if (event.event_type == kEvNoAction) {  // 2
      ++replay.no_action_events;
      continue;
    }
    if (event.mr_index < kMrIndexRtmr0 || event.mr_index > kMrIndexRtmr3) {  // 3
      return Malformed("tdx.event_log.bad_mr_index",
                       "event {} ({}) at offset {} extends MR index {}; only 1..4 (RTMR0..3) are "
                       "extended at run time{}",
                       event.number, EventTypeName(event.event_type), event.offset, event.mr_index,
                       event.mr_index == 0 ? " (0 is MRTD)" : "");
    }
    const Bytes* sha384 = event.DigestFor(kTpmAlgSha384);
    if (sha384 == nullptr) {  // the parser's invariant; never the input's fault
      return Internal("tdx.internal.event_log", "event {} has no SHA-384 digest", event.number);
    }
    LUNAL_ASSIGN_OR_RETURN(ReplayedEvent replayed, Replayed(event, *sha384));
    LUNAL_RETURN_IF_ERROR(ExtendRtmr(replay.rtmr[replayed.rtmr], *sha384));  // 4
    replay.events[replayed.rtmr].push_back(std::move(replayed));
  }
  return replay;
}

Result<std::optional<std::string>> FindLunalBuildHash(const RtmrReplay& replay) {
  std::optional<std::string> found;
  for (const ReplayedEvent& e : replay.events[3]) {
    if (!e.lunal || e.lunal->type != LunalEventType::kBuildHash) continue;
    if (found) {
      return VerificationFailed("tdx.event_log.lunal.duplicate_build_hash",
                                "RTMR3 holds two lunal.build-hash events ({} and {})", *found,
                                e.lunal->value);
    }
    found = e.lunal->value;
  }
  return found;
}

Result<EventLogCheck> CheckEventLog(const EventLog& log, const std::array<Bytes, 4>& quote_rtmr) {
  for (std::size_t i = 0; i < 4; ++i) {
    if (quote_rtmr[i].size() != kRtmrSize) {
      return InvalidArgument("tdx.event_log.bad_quote_rtmr", "quote RTMR{} is {} bytes, not 48", i,
                             quote_rtmr[i].size());
    }
  }
  EventLogCheck check;
  LUNAL_ASSIGN_OR_RETURN(check.replay, ReplayRtmrs(log));
  check.quote_rtmr = quote_rtmr;
  check.all_match = true;
  for (std::size_t i = 0; i < 4; ++i) {
    check.rtmr_match[i] = check.replay.rtmr[i] == quote_rtmr[i];
    check.all_match = check.all_match && check.rtmr_match[i];
  }
  LUNAL_ASSIGN_OR_RETURN(std::optional<std::string> build_hash, FindLunalBuildHash(check.replay));
  if (check.rtmr_match[3]) check.lunal_build_hash = std::move(build_hash);
  return check;
}

Status RequireRtmrMatch(const EventLogCheck& check) {
  std::string mismatches;
  for (std::size_t i = 0; i < 4; ++i) {
    if (check.rtmr_match[i]) continue;
    mismatches +=
        fmt::format("{}RTMR{}: quote {}, event log replays to {}", mismatches.empty() ? "" : "; ",
                    i, HexEncode(check.quote_rtmr[i]), HexEncode(check.replay.rtmr[i]));
  }
  if (mismatches.empty()) return Status();
  return VerificationFailed("tdx.event_log.rtmr_mismatch", "{}", mismatches);
}

Json EventLogCheck::ToJson() const {
  Json rtmrs = Json::array(), events = Json::array();
  std::vector<const ReplayedEvent*> in_log_order;
  for (std::size_t i = 0; i < 4; ++i) {
    rtmrs.push_back({{"rtmr", i},
                     {"quote", HexEncode(quote_rtmr[i])},
                     {"replayed", HexEncode(replay.rtmr[i])},
                     {"match", rtmr_match[i]},
                     {"events", replay.events[i].size()}});
    for (const ReplayedEvent& e : replay.events[i]) in_log_order.push_back(&e);
  }
  std::sort(in_log_order.begin(), in_log_order.end(),
            [](const ReplayedEvent* a, const ReplayedEvent* b) { return a->number < b->number; });
  for (const ReplayedEvent* e : in_log_order) events.push_back(EventJson(*e));
  Json json = {{"replayed", true},          {"rtmr_match", rtmr_match},
               {"all_match", all_match},    {"build_hash_event", lunal_build_hash.has_value()},
               {"rtmrs", std::move(rtmrs)}, {"events", std::move(events)}};
  if (lunal_build_hash) json["build_hash"] = *lunal_build_hash;
  return json;
}

}  // namespace lunal::attest::tdx
