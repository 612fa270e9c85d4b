// Lunal's RTMR3 events: the encoding (round trip, exact bytes, rejections), the builder (new
// logs and continuations of a real CCEL) replayed against RTMR3 values computed here
// independently, and the build-hash lookup with its failure modes.
#include "lunal/attest/tdx/event_log_lunal.h"

#include <gtest/gtest.h>

#include "event_log_testing.h"
#include "lunal/attest/tdx/event_log.h"
#include "lunal/attest/tdx/event_log_builder.h"
#include "lunal/common/encoding.h"
#include "lunal/crypto/digest.h"
#include "lunal/testing/testing.h"

namespace lunal::attest::tdx {
namespace {

using testing::ReadEvidence;
namespace t = testing;

const std::string kHash = "sha256:" + std::string(64, 'a');
const std::string kHash2 =
    "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

// TCG_PCClientTaggedEvent written out by hand: "LUNL", the size (little-endian), the text.
Bytes Tagged(std::string_view text, std::uint32_t id = 0x4C4E554C) {
  Bytes out;
  for (std::uint32_t v : {id, static_cast<std::uint32_t>(text.size())}) {
    for (int shift = 0; shift < 32; shift += 8)
      out.push_back(static_cast<std::uint8_t>(v >> shift));
  }
  out.insert(out.end(), text.begin(), text.end());
  return out;
}

Bytes Sha384Of(ByteSpan data) {
  auto d = crypto::Sha384(data);
  return Bytes(d.begin(), d.end());
}

// RTMR3 from zero over the given events' data, computed without ExtendRtmr.
Bytes IndependentRtmr3(const std::vector<Bytes>& events) {
  Bytes rtmr(48, 0);
  for (const Bytes& data : events) {
    Bytes input = rtmr;
    Bytes digest = Sha384Of(data);
    input.insert(input.end(), digest.begin(), digest.end());
    rtmr = Sha384Of(input);
  }
  return rtmr;
}

TEST(LunalEventTest, EncodesExactlyAndRoundTrips) {
  const std::vector<std::pair<LunalEvent, std::string>> cases = {
      {{LunalEventType::kBuildHash, kHash},
       R"({"type":"lunal.build-hash","value":")" + kHash + "\"}"},
      {{LunalEventType::kConfigHash, kHash2},
       R"({"type":"lunal.config-hash","value":")" + kHash2 + "\"}"},
      {{LunalEventType::kInstanceId, "inst_01HZX.a-b:c"},
       R"({"type":"lunal.instance-id","value":"inst_01HZX.a-b:c"})"},
  };
  for (const auto& [event, json] : cases) {
    auto encoded = EncodeLunalEvent(event);
    ASSERT_TRUE(encoded.ok()) << encoded.error();
    EXPECT_EQ(*encoded, Tagged(json));
    EXPECT_EQ(ToString(ByteSpan(*encoded).first(4)), "LUNL");
    EXPECT_TRUE(ClaimsLunalEvent(*encoded));
    auto decoded = DecodeLunalEvent(*encoded);
    ASSERT_TRUE(decoded.ok()) << decoded.error();
    EXPECT_EQ(*decoded, event);
  }
}

TEST(LunalEventTest, EncodeRejectsValuesNotOfTheirTypesForm) {
  const std::vector<LunalEvent> bad = {
      {LunalEventType::kBuildHash, "sha256:" + std::string(64, 'A')},
      {LunalEventType::kBuildHash, "sha256:" + std::string(63, 'a')},
      {LunalEventType::kBuildHash, "sha384:" + std::string(64, 'a')},
      {LunalEventType::kConfigHash, std::string(64, 'a')},
      {LunalEventType::kInstanceId, ""},
      {LunalEventType::kInstanceId, "has space"},
      {LunalEventType::kInstanceId, "quote\""},
      {LunalEventType::kInstanceId, std::string(129, 'x')},
  };
  for (const LunalEvent& event : bad) {
    auto encoded = EncodeLunalEvent(event);
    ASSERT_FALSE(encoded.ok()) << event.value;
    EXPECT_EQ(encoded.error().code(), Code::kInvalidArgument);
    EXPECT_EQ(encoded.error().reason(), "tdx.event_log.lunal.bad_value");
  }
  EXPECT_TRUE(EncodeLunalEvent({LunalEventType::kInstanceId, std::string(128, 'x')}).ok());
}

TEST(LunalEventTest, DecodeAcceptsNothingElse) {
  const std::string good = R"({"type":"lunal.build-hash","value":")" + kHash + "\"}";
  const std::vector<std::pair<Bytes, std::string>> cases = {
      {Tagged(R"({"type":"lunal.other","value":"x"})"), "tdx.event_log.lunal.unknown_type"},
      {Tagged(R"({"type":"lunal.build-hash","value":")" + kHash + R"(","x":1})"),
       "tdx.event_log.lunal.malformed"},
      {Tagged(R"({"type":"lunal.build-hash","value":7})"), "tdx.event_log.lunal.malformed"},
      {Tagged(R"({"type":"lunal.build-hash"})"), "tdx.event_log.lunal.malformed"},
      {Tagged(R"(["lunal.build-hash"])"), "tdx.event_log.lunal.malformed"},
      {Tagged(R"({"type":"lunal.build-hash","value":"sha256:00"})"),
       "tdx.event_log.lunal.bad_value"},
      {Tagged(R"({"value":")" + kHash + R"(","type":"lunal.build-hash"})"),
       "tdx.event_log.lunal.not_canonical"},
      {Tagged(R"({"type": "lunal.build-hash","value":")" + kHash + "\"}"),
       "tdx.event_log.lunal.not_canonical"},
      {Tagged(R"({"type":"lunal.build-hash","type":"lunal.build-hash"})"), "json.duplicate_key"},
      {Tagged(R"({"type":)"), "json.syntax"},
      {Tagged(good, 0x8F3B22ED), "tdx.event_log.lunal.wrong_tag"},
      {Tagged(std::string(kMaxLunalEventData + 1, ' ')), "tdx.event_log.lunal.too_large"},
      {Bytes{'L', 'U', 'N', 'L', 3}, "tdx.event_log.lunal.truncated"},
  };
  for (const auto& [bytes, reason] : cases) {
    auto decoded = DecodeLunalEvent(bytes);
    ASSERT_FALSE(decoded.ok()) << reason;
    EXPECT_EQ(decoded.error().reason(), reason) << decoded.error();
  }
  Bytes longer = Tagged(good);
  longer.push_back('\n');
  EXPECT_EQ(DecodeLunalEvent(longer).error().reason(), "tdx.event_log.lunal.trailing_bytes");
  Bytes shorter = Tagged(good);
  shorter.pop_back();
  EXPECT_EQ(DecodeLunalEvent(shorter).error().reason(), "tdx.event_log.lunal.data.truncated");
  EXPECT_FALSE(ClaimsLunalEvent(Tagged(good, 0x8F3B22ED)));
  EXPECT_FALSE(ClaimsLunalEvent(AsBytes("LUN")));
}

TEST(EventLogBuilderTest, NewLogReplaysToIndependentRtmr3) {
  EventLogBuilder builder = EventLogBuilder::New();
  const std::vector<LunalEvent> events = {{LunalEventType::kBuildHash, kHash},
                                          {LunalEventType::kConfigHash, kHash2},
                                          {LunalEventType::kInstanceId, "inst_42"}};
  std::vector<Bytes> data;
  for (const LunalEvent& event : events) {
    auto digest = builder.AppendLunal(event);
    ASSERT_TRUE(digest.ok()) << digest.error();
    data.push_back(Tagged(*LunalEventJson(event)));
    EXPECT_EQ(*digest, Sha384Of(data.back()));
  }
  const Bytes expected_rtmr3 = IndependentRtmr3(data);

  auto log = ParseEventLog(builder.bytes());
  ASSERT_TRUE(log.ok()) << log.error();
  EXPECT_EQ(log->header_mr_index, 0u);
  ASSERT_EQ(log->events.size(), 3u);
  EXPECT_EQ(log->events[0].mr_index, 4u);
  EXPECT_EQ(log->events[0].event_type, kEvEventTag);
  const std::array<Bytes, 4> quote = {Bytes(48, 0), Bytes(48, 0), Bytes(48, 0), expected_rtmr3};
  auto check = CheckEventLog(*log, quote);
  ASSERT_TRUE(check.ok()) << check.error();
  EXPECT_TRUE(check->all_match);
  EXPECT_EQ(check->lunal_build_hash, kHash);
  ASSERT_EQ(check->replay.events[3].size(), 3u);
  EXPECT_EQ(check->replay.events[3][2].lunal, events[2]);
  EXPECT_EQ(check->replay.events[3][0].description, "lunal.build-hash " + kHash);
  EXPECT_EQ(check->replay.events[3][2].description, "lunal.instance-id inst_42");
  const Json json = check->ToJson();
  EXPECT_EQ(json["build_hash_event"], true);
  EXPECT_EQ(json["build_hash"], kHash);
  EXPECT_EQ(json["events"][1]["lunal"]["type"], "lunal.config-hash");

  // A quote whose RTMR3 differs: the mismatch is reported and the build hash is not claimed.
  std::array<Bytes, 4> other = quote;
  other[3][0] ^= 1;
  auto mismatch = CheckEventLog(*log, other);
  ASSERT_TRUE(mismatch.ok()) << mismatch.error();
  EXPECT_EQ(mismatch->rtmr_match, (std::array<bool, 4>{true, true, true, false}));
  EXPECT_FALSE(mismatch->lunal_build_hash.has_value());
  EXPECT_EQ(mismatch->ToJson()["build_hash_event"], false);
}

// fuzz/corpus/tdx_event_log/lunal-build-hash.bin was written by an independent script (Python
// struct + hashlib, following docs/formats/tdx-event-log.md), then 64 bytes of 0xFF fill.
TEST(EventLogBuilderTest, MatchesAnIndependentlyWrittenLog) {
  EventLogBuilder builder = EventLogBuilder::New();
  std::string hash = "sha256:";
  for (int i = 0; i < 32; ++i) hash += "ab";
  auto digest = builder.AppendLunal({LunalEventType::kBuildHash, hash});
  ASSERT_TRUE(digest.ok()) << digest.error();
  // The worked example of docs/formats/tdx-event-log.md.
  EXPECT_EQ(
      HexEncode(*digest),
      "5e3a5f6b08286de0a0bc0eb7244a5f57a187729d6b6189e8654e9727a0b59614f4c42878331ab8d209ab2126"
      "cd47fd52");
  auto replay = ReplayRtmrs(t::MustParse(builder.bytes()));
  ASSERT_TRUE(replay.ok()) << replay.error();
  EXPECT_EQ(
      HexEncode(replay->rtmr[3]),
      "7661c70b2520f4b11796f549c9ccf060992e004f85bb487c94283e331495f8befb6dc42ad03233c912b070dc5e"
      "bbe81e");
  Bytes expected = lunal::testing::ReadFileBytes(lunal::testing::SourceDir() /
                                                 "fuzz/corpus/tdx_event_log/lunal-build-hash.bin");
  ASSERT_GT(expected.size(), 64u);
  expected.resize(expected.size() - 64);
  EXPECT_EQ(HexEncode(builder.bytes()), HexEncode(expected));
}

// The instance agent continues the firmware's CCEL: RTMR0-2 still match the real quote, RTMR3
// becomes the Lunal events' value.
TEST(EventLogBuilderTest, ContinuesARealCcel) {
  const EventLog cos = t::MustParse(ReadEvidence(t::kCosLog));
  auto builder = EventLogBuilder::Continue(cos);
  ASSERT_TRUE(builder.ok()) << builder.error();
  ASSERT_TRUE(builder->AppendLunal({LunalEventType::kBuildHash, kHash2}).ok());
  auto log = ParseEventLog(builder->bytes());
  ASSERT_TRUE(log.ok()) << log.error();
  EXPECT_EQ(log->events.size(), cos.events.size() + 1);
  std::array<Bytes, 4> quote = t::QuoteRtmrs(t::kCosQuote);
  quote[3] = IndependentRtmr3({Tagged(*LunalEventJson({LunalEventType::kBuildHash, kHash2}))});
  auto check = CheckEventLog(*log, quote);
  ASSERT_TRUE(check.ok()) << check.error();
  EXPECT_TRUE(check->all_match);
  EXPECT_EQ(check->lunal_build_hash, kHash2);
}

TEST(EventLogBuilderTest, RejectsWhatItCannotWrite) {
  EventLogBuilder builder = EventLogBuilder::New();
  for (std::uint32_t mr_index : {0u, 5u}) {
    EXPECT_EQ(builder.Append(mr_index, kEvIpl, {}).error().reason(),
              "tdx.event_log.builder.bad_mr_index");
  }
  EXPECT_EQ(builder.Append(1, kEvNoAction, {}).error().reason(), "tdx.event_log.builder.no_action");
  EXPECT_EQ(builder.AppendLunal({LunalEventType::kBuildHash, "x"}).error().reason(),
            "tdx.event_log.lunal.bad_value");
  EXPECT_EQ(builder.event_count(), 0u);
  EventLog sm3 = t::MustParse(builder.bytes());
  sm3.spec_id.algorithms.push_back({kTpmAlgSm3_256, 32});
  EXPECT_EQ(EventLogBuilder::Continue(sm3).error().reason(),
            "tdx.event_log.builder.unsupported_algorithm");
}

// The data of a Lunal event is trusted only because its digest is checked: edited data, a
// Lunal event outside RTMR3, a broken one, or two build hashes make the log unacceptable.
TEST(EventLogBuilderTest, RejectsForgedOrAmbiguousLunalEvents) {
  EventLogBuilder builder = EventLogBuilder::New();
  ASSERT_TRUE(builder.AppendLunal({LunalEventType::kBuildHash, kHash}).ok());
  EventLog forged = t::MustParse(builder.bytes());
  forged.events[0].data = Tagged(*LunalEventJson({LunalEventType::kBuildHash, kHash2}));
  auto replay = ReplayRtmrs(forged);
  ASSERT_FALSE(replay.ok());
  EXPECT_EQ(replay.error().code(), Code::kVerificationFailed);
  EXPECT_EQ(replay.error().reason(), "tdx.event_log.lunal.digest_mismatch");

  EventLogBuilder wrong_rtmr = EventLogBuilder::New();
  ASSERT_TRUE(
      wrong_rtmr.Append(3, kEvEventTag, *EncodeLunalEvent({LunalEventType::kBuildHash, kHash}))
          .ok());
  EXPECT_EQ(ReplayRtmrs(t::MustParse(wrong_rtmr.bytes())).error().reason(),
            "tdx.event_log.lunal.wrong_mr_index");

  EventLogBuilder broken = EventLogBuilder::New();
  ASSERT_TRUE(broken.Append(4, kEvEventTag, Tagged(R"({"type":"lunal.nope","value":"x"})")).ok());
  EXPECT_EQ(ReplayRtmrs(t::MustParse(broken.bytes())).error().reason(),
            "tdx.event_log.lunal.unknown_type");

  ASSERT_TRUE(builder.AppendLunal({LunalEventType::kBuildHash, kHash2}).ok());
  const EventLog twice = t::MustParse(builder.bytes());
  auto replayed = ReplayRtmrs(twice);
  ASSERT_TRUE(replayed.ok()) << replayed.error();
  const std::array<Bytes, 4> quote = {Bytes(48, 0), Bytes(48, 0), Bytes(48, 0), replayed->rtmr[3]};
  auto check = CheckEventLog(twice, quote);
  ASSERT_FALSE(check.ok());
  EXPECT_EQ(check.error().reason(), "tdx.event_log.lunal.duplicate_build_hash");

  // Another EV_EVENT_TAG user's event on RTMR3 is not Lunal's and is simply replayed.
  EventLogBuilder other = EventLogBuilder::New();
  ASSERT_TRUE(other.Append(4, kEvEventTag, Tagged("Linux initrd", 0x8F3B22EC)).ok());
  auto found = FindLunalBuildHash(*ReplayRtmrs(t::MustParse(other.bytes())));
  ASSERT_TRUE(found.ok());
  EXPECT_FALSE(found->has_value());
}

}  // namespace
}  // namespace lunal::attest::tdx
