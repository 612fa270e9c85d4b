// Fuzz target: the TDX event log parser (raw, hex and base64 input), the RTMR replay, the
// verification record and the builder. Invariants that must hold for every accepted input:
//   - the log a parse keeps (EventLog::bytes) parses again to the same events, with no padding;
//   - a log checked against its own replayed RTMRs matches on every RTMR;
//   - appending a Lunal event to an accepted log gives a log with one more event, whose RTMR0-2
//     replay unchanged and whose build hash is found when none was there before.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "lunal/attest/tdx/event_log.h"
#include "lunal/attest/tdx/event_log_builder.h"

namespace {
namespace tdx = lunal::attest::tdx;

const std::string kHash = "sha256:" + std::string(64, 'b');

void Check(bool ok) {
  if (!ok) std::abort();
}

void CheckBuilder(const tdx::EventLog& log, const tdx::RtmrReplay& replay) {
  auto builder = tdx::EventLogBuilder::Continue(log);
  if (!builder.ok()) return;  // a log declaring an algorithm the builder cannot compute
  if (!builder->AppendLunal({tdx::LunalEventType::kBuildHash, kHash}).ok()) return;  // full
  auto longer = tdx::ParseEventLog(builder->bytes());
  Check(longer.ok() && longer->events.size() == log.events.size() + 1);
  auto again = tdx::ReplayRtmrs(*longer);
  Check(again.ok());
  for (std::size_t i = 0; i < 3; ++i) Check(again->rtmr[i] == replay.rtmr[i]);
  auto before = tdx::FindLunalBuildHash(replay);
  auto after = tdx::FindLunalBuildHash(*again);
  if (before.ok() && !before->has_value()) Check(after.ok() && *after == kHash);
}

void CheckLog(const tdx::EventLog& log) {
  auto reparsed = tdx::ParseEventLog(log.bytes);
  Check(reparsed.ok() && reparsed->events.size() == log.events.size() && reparsed->padding == 0);
  auto replay = tdx::ReplayRtmrs(log);
  if (!replay.ok()) return;
  auto check = tdx::CheckEventLog(log, replay->rtmr);
  if (check.ok()) {
    Check(check->all_match && tdx::RequireRtmrMatch(*check).ok());
    volatile std::size_t sink = check->ToJson().dump().size();
    (void)sink;
  } else {
    Check(check.error().reason() == "tdx.event_log.lunal.duplicate_build_hash");
  }
  CheckBuilder(log, *replay);
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto log = tdx::ParseEventLog(lunal::ByteSpan(data, size));
  if (log.ok()) CheckLog(*log);
  return 0;
}
