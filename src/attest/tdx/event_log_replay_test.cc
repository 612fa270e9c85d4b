// RTMR replay of the real CCELs against the RTMRs of the quotes they came with, per-RTMR
// mismatch reporting under digest flips, and the verification record.
#include <gtest/gtest.h>

#include <algorithm>

#include "event_log_testing.h"
#include "lunal/attest/tdx/event_log.h"
#include "lunal/attest/tdx/event_log_builder.h"
#include "lunal/attest/tdx/verify.h"
#include "lunal/common/encoding.h"
#include "lunal/common/time.h"
#include "lunal/crypto/digest.h"
#include "lunal/testing/testing.h"

namespace lunal::attest::tdx {
namespace {

using testing::ReadEvidence;
namespace t = testing;

class RealLogReplayTest : public ::testing::TestWithParam<t::RealLog> {};

TEST_P(RealLogReplayTest, ReplaysToItsQuotesRtmrs) {
  const t::RealLog& real = GetParam();
  const EventLog log = t::MustParse(ReadEvidence(real.path));
  auto replay = ReplayRtmrs(log);
  ASSERT_TRUE(replay.ok()) << replay.error();
  std::size_t replayed = replay->no_action_events;
  for (const auto& events : replay->events) replayed += events.size();
  EXPECT_EQ(replayed, log.events.size());
  if (real.quote.empty()) return;
  auto check = CheckEventLog(log, t::QuoteRtmrs(real.quote));
  ASSERT_TRUE(check.ok()) << check.error();
  EXPECT_EQ(check->rtmr_match, real.match);
  EXPECT_EQ(check->all_match, std::all_of(real.match.begin(), real.match.end(), std::identity()));
  EXPECT_EQ(RequireRtmrMatch(*check).ok(), check->all_match);
}

INSTANTIATE_TEST_SUITE_P(Evidence, RealLogReplayTest, ::testing::ValuesIn(t::RealLogs()));

TEST(EventLogReplayTest, Cos113ReplayEqualsTheQuotesRtmrsExactly) {
  auto replay = ReplayRtmrs(t::MustParse(ReadEvidence(t::kCosLog)));
  ASSERT_TRUE(replay.ok()) << replay.error();
  const std::array<Bytes, 4> quote = t::QuoteRtmrs(t::kCosQuote);
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(HexEncode(replay->rtmr[i]), HexEncode(quote[i])) << "RTMR" << i;
  }
  EXPECT_EQ(HexEncode(replay->rtmr[3]), std::string(96, '0'));  // nothing extends RTMR3
  EXPECT_EQ(replay->events[0].size(), 16u);
  EXPECT_EQ(replay->events[1].size(), 7u);
  EXPECT_EQ(replay->events[2].size(), 20u);
  for (const ReplayedEvent& e : replay->events[2]) EXPECT_EQ(e.type_name, "EV_IPL");
}

// The quote verifies (README: accept as of 2025-10-01T00:34:24Z), and the log replays to the
// RTMRs of the verified claims.
TEST(EventLogReplayTest, Cos113MatchesTheVerifiedQuote) {
  auto pool =
      CollateralPool::LoadDirectory(lunal::testing::SharedDir() / "evidence/collateral/intel");
  ASSERT_TRUE(pool.ok()) << pool.error();
  Verifier verifier(*pool);
  auto as_of = ParseRfc3339("2025-10-01T00:34:24Z");
  ASSERT_TRUE(as_of.ok());
  Bytes quote = ReadEvidence(t::kCosQuote);
  auto verified = verifier.Verify(quote, {.as_of = *as_of});
  ASSERT_TRUE(verified.ok()) << verified.error();
  auto check = CheckEventLog(t::MustParse(ReadEvidence(t::kCosLog)), verified->rtmr);
  ASSERT_TRUE(check.ok()) << check.error();
  EXPECT_TRUE(check->all_match);
  EXPECT_TRUE(RequireRtmrMatch(*check).ok());
  EXPECT_FALSE(check->lunal_build_hash.has_value());
}

// Flipping one byte of any event's SHA-384 digest breaks exactly the RTMR that event extends.
TEST(EventLogReplayTest, AFlippedDigestBreaksExactlyItsRtmr) {
  const Bytes log = t::MustParse(ReadEvidence(t::kCosLog)).bytes;
  const EventLog parsed = t::MustParse(log);
  const std::array<Bytes, 4> quote = t::QuoteRtmrs(t::kCosQuote);
  for (const Event& e : parsed.events) {
    Bytes bad = log;
    bad[e.offset + t::kDigestAt + e.number % 48] ^= 0x01;
    auto check = CheckEventLog(t::MustParse(bad), quote);
    ASSERT_TRUE(check.ok()) << check.error();
    for (std::size_t i = 0; i < 4; ++i) {
      EXPECT_EQ(check->rtmr_match[i], i + 1 != e.mr_index) << "event " << e.number << " RTMR" << i;
    }
    EXPECT_FALSE(check->all_match);
    Status strict = RequireRtmrMatch(*check);
    EXPECT_EQ(strict.code(), Code::kVerificationFailed);
    EXPECT_EQ(strict.reason(), "tdx.event_log.rtmr_mismatch");
    const std::size_t rtmr = e.mr_index - 1;
    EXPECT_NE(
        strict.message().find("RTMR" + std::to_string(rtmr) + ": quote " + HexEncode(quote[rtmr]) +
                              ", event log replays to " + HexEncode(check->replay.rtmr[rtmr])),
        std::string::npos)
        << strict;
  }
}

TEST(EventLogReplayTest, LiveLogDiffersFromItsQuoteInRtmr2Only) {
  auto check = CheckEventLog(
      t::MustParse(
          ReadEvidence("lunal-attestation-rs/crates/attestation/test_data/tdx_ccel_live.bin")),
      t::QuoteRtmrs(t::kLiveQuote));
  ASSERT_TRUE(check.ok()) << check.error();
  Status strict = RequireRtmrMatch(*check);
  EXPECT_EQ(strict.reason(), "tdx.event_log.rtmr_mismatch");
  EXPECT_NE(strict.message().find("RTMR2: quote 35b87e05"), std::string::npos) << strict;
  EXPECT_EQ(strict.message().find("RTMR0"), std::string::npos) << strict;
  const Json json = check->ToJson();
  EXPECT_EQ(json["rtmr_match"], Json::parse("[true,true,false,true]"));
  EXPECT_EQ(json["all_match"], false);
  EXPECT_EQ(json["rtmrs"][2]["match"], false);
  EXPECT_EQ(json["rtmrs"][2]["quote"].get<std::string>().substr(0, 8), "35b87e05");
}

TEST(EventLogReplayTest, VerificationRecordNamesTheEvents) {
  auto check = CheckEventLog(t::MustParse(ReadEvidence(t::kCosLog)), t::QuoteRtmrs(t::kCosQuote));
  ASSERT_TRUE(check.ok()) << check.error();
  const Json json = check->ToJson();
  EXPECT_EQ(json["replayed"], true);
  EXPECT_EQ(json["all_match"], true);
  EXPECT_EQ(json["build_hash_event"], false);
  EXPECT_FALSE(json.contains("build_hash"));
  ASSERT_EQ(json["events"].size(), 43u);
  std::size_t previous = 0;
  std::vector<std::string> descriptions;
  for (const Json& e : json["events"]) {
    EXPECT_GT(e["number"].get<std::size_t>(), previous);  // log order
    previous = e["number"].get<std::size_t>();
    EXPECT_LE(e["description"].get<std::string>().size(), 100u);
    descriptions.push_back(e["type"].get<std::string>() + " " +
                           e["description"].get<std::string>());
  }
  for (const char* expected :
       {"EV_EFI_VARIABLE_DRIVER_CONFIG SecureBoot", "EV_EFI_VARIABLE_BOOT BootOrder",
        "EV_EFI_HANDOFF_TABLES2 TdxTable", "EV_PLATFORM_CONFIG_FLAGS ACPI DATA",
        "EV_EFI_ACTION Calling EFI Application from Boot Option", "EV_IPL grub_cmd: set timeout=0",
        "EV_SEPARATOR separator 0x00000000", "EV_EFI_VARIABLE_AUTHORITY SbatLevel"}) {
    EXPECT_NE(std::find(descriptions.begin(), descriptions.end(), expected), descriptions.end())
        << expected;
  }
}

TEST(EventLogReplayTest, DescribesTaggedEvents) {
  auto replay = ReplayRtmrs(t::MustParse(
      ReadEvidence("lunal-attestation-rs/crates/attestation/test_data/tdx_ccel_live2.dat")));
  ASSERT_TRUE(replay.ok()) << replay.error();
  std::vector<std::string> tags;
  for (const ReplayedEvent& e : replay->events[2]) {
    if (e.event_type == kEvEventTag) tags.push_back(e.description);
  }
  EXPECT_EQ(tags, (std::vector<std::string>{"tag 0x8f3b22ed: LOADED_IMAGE::LoadOptions",
                                            "tag 0x8f3b22ec: Linux initrd"}));
}

TEST(EventLogReplayTest, DescriptionsAreBoundedAndPrintable) {
  EventLogBuilder builder = EventLogBuilder::New();
  ASSERT_TRUE(builder.Append(3, kEvIpl, Bytes(100000, 'A')).ok());
  Bytes mixed = ToBytes("ok\x01\x02grub");  // "ok" is too short to be a run
  mixed.push_back(0);
  for (char c : std::string("kernel")) mixed.insert(mixed.end(), {static_cast<std::uint8_t>(c), 0});
  ASSERT_TRUE(builder.Append(3, kEvIpl, mixed).ok());
  ASSERT_TRUE(builder.AppendLunal({LunalEventType::kInstanceId, std::string(128, 'x')}).ok());
  auto replay = ReplayRtmrs(t::MustParse(builder.bytes()));
  ASSERT_TRUE(replay.ok()) << replay.error();
  EXPECT_EQ(replay->events[2][0].description, std::string(97, 'A') + "...");
  EXPECT_EQ(replay->events[2][1].description, "grub kernel");
  EXPECT_EQ(replay->events[3][0].description.size(), 100u);
  EXPECT_TRUE(replay->events[3][0].description.ends_with("..."));
}

TEST(EventLogReplayTest, RejectsMeasuredEventsOutsideRtmrs) {
  const Bytes log = t::MustParse(ReadEvidence(t::kCosLog)).bytes;
  const Event first = t::MustParse(log).events.front();
  for (std::uint32_t mr_index : {0u, 5u, 0xFFFFFFFEu}) {
    Bytes bad = log;
    t::PutU32(bad, first.offset, mr_index);
    auto replay = ReplayRtmrs(t::MustParse(bad));
    ASSERT_FALSE(replay.ok()) << mr_index;
    EXPECT_EQ(replay.error().reason(), "tdx.event_log.bad_mr_index");
  }
  // The same record as EV_NO_ACTION extends nothing, wherever it points: RTMR0 changes only.
  Bytes no_action = log;
  t::PutU32(no_action, first.offset, 9);
  t::PutU32(no_action, first.offset + 4, kEvNoAction);
  auto check = CheckEventLog(t::MustParse(no_action), t::QuoteRtmrs(t::kCosQuote));
  ASSERT_TRUE(check.ok()) << check.error();
  EXPECT_EQ(check->rtmr_match, (std::array<bool, 4>{false, true, true, true}));
  EXPECT_EQ(check->replay.no_action_events, 1u);
}

TEST(EventLogReplayTest, ExtendIsSha384OfRegisterAndDigest) {
  Bytes rtmr(48, 0);
  const auto digest = crypto::Sha384(AsBytes("event"));
  ASSERT_TRUE(ExtendRtmr(rtmr, digest).ok());
  Bytes input(48, 0);
  input.insert(input.end(), digest.begin(), digest.end());
  const auto expected = crypto::Sha384(input);
  EXPECT_EQ(rtmr, Bytes(expected.begin(), expected.end()));
  Bytes short_rtmr(47, 0);
  EXPECT_EQ(ExtendRtmr(short_rtmr, digest).reason(), "tdx.event_log.bad_extend_size");
  EXPECT_EQ(ExtendRtmr(rtmr, ByteSpan(digest).first(32)).reason(), "tdx.event_log.bad_extend_size");
}

TEST(EventLogReplayTest, RejectsQuoteRtmrsOfTheWrongSize) {
  std::array<Bytes, 4> quote = t::QuoteRtmrs(t::kCosQuote);
  quote[1].pop_back();
  auto check = CheckEventLog(t::MustParse(ReadEvidence(t::kCosLog)), quote);
  ASSERT_FALSE(check.ok());
  EXPECT_EQ(check.error().code(), Code::kInvalidArgument);
  EXPECT_EQ(check.error().reason(), "tdx.event_log.bad_quote_rtmr");
}

}  // namespace
}  // namespace lunal::attest::tdx
