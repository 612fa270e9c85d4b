// ParseEventLog over every real CCEL in ../shared/evidence, its text wrappings, and mutations of
// real logs: truncation at and after every record boundary, inflated sizes, Spec ID edits, unknown
// algorithms, padding that is not blank, too many events.
#include "lunal/attest/tdx/event_log.h"

#include <gtest/gtest.h>

#include "event_log_testing.h"
#include "lunal/attest/tdx/event_log_builder.h"
#include "lunal/common/encoding.h"
#include "lunal/testing/testing.h"

namespace lunal::attest::tdx {
namespace {

using testing::GetU32;
using testing::PutU16;
using testing::PutU32;
using testing::ReadEvidence;
namespace t = testing;

// The Spec ID header of a one-algorithm log, by offset (event_log.cc's diagram).
constexpr std::size_t kHeaderType = 4, kHeaderDigest = 8, kHeaderSize = 28, kSignature = 32,
                      kVersionMinor = 52, kVersionMajor = 53, kUintnSize = 55, kAlgCount = 56,
                      kAlgId = 60, kAlgSize = 62;

Bytes CosLog() { return t::MustParse(ReadEvidence(t::kCosLog)).bytes; }

Status ParseStatus(const Bytes& bytes) { return ParseEventLog(bytes).status(); }

class RealLogTest : public ::testing::TestWithParam<t::RealLog> {};

TEST_P(RealLogTest, ParsesWithTheExpectedShape) {
  const t::RealLog& real = GetParam();
  Bytes file = ReadEvidence(real.path);
  auto log = ParseEventLog(file);
  ASSERT_TRUE(log.ok()) << log.error();
  EXPECT_EQ(log->encoding, EventLogEncoding::kRaw);
  EXPECT_EQ(log->events.size(), real.events);
  EXPECT_EQ(log->bytes.size(), real.log_size);
  EXPECT_EQ(log->padding, file.size() - real.log_size);
  EXPECT_EQ(file[real.log_size], real.fill);
  EXPECT_EQ(log->header_mr_index, real.header_mr_index);
  EXPECT_EQ(ToString(log->spec_id.vendor_info), real.vendor_info);
  ASSERT_EQ(log->spec_id.algorithms.size(), 1u);
  EXPECT_EQ(log->spec_id.algorithms[0].algorithm_id, kTpmAlgSha384);
  EXPECT_EQ(log->spec_id.algorithms[0].digest_size, 48u);
  for (const Event& e : log->events) {
    ASSERT_NE(e.DigestFor(kTpmAlgSha384), nullptr) << e.number;
    EXPECT_EQ(e.DigestFor(kTpmAlgSha384)->size(), 48u);
    EXPECT_EQ(GetU32(file, e.offset), e.mr_index);
  }
  // The log without its padding is the same log.
  auto trimmed = ParseEventLog(log->bytes);
  ASSERT_TRUE(trimmed.ok()) << trimmed.error();
  EXPECT_EQ(trimmed->events.size(), real.events);
  EXPECT_EQ(trimmed->padding, 0u);
}

INSTANTIATE_TEST_SUITE_P(Evidence, RealLogTest, ::testing::ValuesIn(t::RealLogs()));

// trustee parses the same td-shim log independently (parse_tdx_claims_expected.json).
TEST(EventLogTest, AgreesWithTrusteeOnTdShimLog) {
  auto log = ParseEventLog(ReadEvidence("trustee/deps/verifier/test_data/CCEL_data"));
  ASSERT_TRUE(log.ok()) << log.error();
  auto expected = ParseJson(lunal::testing::ReadFileText(
      lunal::testing::SharedDir() /
      "evidence/trustee/deps/verifier/test_data/parse_tdx_claims_expected.json"));
  ASSERT_TRUE(expected.ok()) << expected.error();
  const Json& events = (*expected)["uefi_event_logs"];
  ASSERT_EQ(events.size(), log->events.size());
  for (std::size_t i = 0; i < events.size(); ++i) {
    const Event& e = log->events[i];
    EXPECT_EQ(events[i]["index"].get<std::uint32_t>(), e.mr_index);
    EXPECT_EQ(events[i]["type_name"].get<std::string>(), EventTypeName(e.event_type));
    EXPECT_EQ(events[i]["digests"][0]["digest"].get<std::string>(),
              HexEncode(*e.DigestFor(kTpmAlgSha384)));
    auto data = Base64Decode(events[i]["event"].get<std::string>());
    ASSERT_TRUE(data.ok());
    EXPECT_EQ(*data, e.data);
  }
}

TEST(EventLogTest, ReadsHexAndBase64Text) {
  Bytes raw = ReadEvidence(t::kCosLog);
  const std::size_t events = t::MustParse(raw).events.size();
  std::string hex = HexEncode(raw);
  hex.insert(64, "\n");
  std::string b64 = Base64Encode(raw) + "\n";
  std::string b64url = Base64Encode(raw, Base64Alphabet::kUrl, false);
  for (const auto& [text, encoding] :
       {std::pair{hex, EventLogEncoding::kHex}, std::pair{b64, EventLogEncoding::kBase64},
        std::pair{b64url, EventLogEncoding::kBase64}}) {
    auto log = ParseEventLog(AsBytes(text));
    ASSERT_TRUE(log.ok()) << log.error();
    EXPECT_EQ(log->encoding, encoding);
    EXPECT_EQ(log->events.size(), events);
  }
  EXPECT_EQ(ParseEventLog(AsBytes("not an event log!")).error().reason(),
            "base64.invalid_character");
  EXPECT_EQ(ParseEventLog(ByteSpan()).error().reason(), "tdx.event_log.empty");
}

// A log cut exactly at a record boundary is a shorter valid log; cut inside a record, the reason
// names the part that is missing, and the message names the event and its offset.
TEST(EventLogTest, TruncationAtAndAfterEveryRecordBoundary) {
  const Bytes log = CosLog();
  const EventLog parsed = t::MustParse(log);
  for (const Event& e : parsed.events) {
    const Bytes prefix(log.begin(), log.begin() + static_cast<std::ptrdiff_t>(e.offset));
    auto shorter = ParseEventLog(prefix);
    ASSERT_TRUE(shorter.ok()) << shorter.error();
    EXPECT_EQ(shorter->events.size(), e.number - 1);
    const std::size_t end = e.offset + t::kDataAt + e.data.size();
    const std::pair<std::size_t, const char*> cuts[] = {
        {e.offset + 1, "tdx.event_log.event.truncated"},
        {e.offset + t::kAlgIdAt, "tdx.event_log.event.digest.truncated"},
        {e.offset + t::kDigestAt + 47, "tdx.event_log.event.digest.truncated"},
        {e.offset + t::kEventSizeAt, "tdx.event_log.event.truncated"},
        {e.offset + t::kEventSizeAt + 3, "tdx.event_log.event.truncated"},
        {end - 1,
         e.data.empty() ? "tdx.event_log.event.truncated" : "tdx.event_log.event.data.truncated"},
    };
    for (const auto& [cut, reason] : cuts) {
      Status s = ParseStatus(Bytes(log.begin(), log.begin() + static_cast<std::ptrdiff_t>(cut)));
      EXPECT_EQ(s.reason(), reason) << "event " << e.number << " cut at " << cut << ": " << s;
      EXPECT_NE(s.message().find("event " + std::to_string(e.number) + " at offset " +
                                 std::to_string(e.offset)),
                std::string::npos)
          << s;
    }
  }
  EXPECT_EQ(ParseStatus(Bytes(log.begin(), log.begin() + 3)).reason(),
            "tdx.event_log.header.truncated");
  EXPECT_EQ(ParseStatus(Bytes(log.begin(), log.begin() + 20)).reason(),
            "tdx.event_log.header.digest.truncated");
  EXPECT_EQ(ParseStatus(Bytes(log.begin(), log.begin() + 40)).reason(),
            "tdx.event_log.spec_id.truncated");
}

TEST(EventLogTest, InflatedSizesAreTruncation) {
  const Bytes log = CosLog();
  const EventLog parsed = t::MustParse(log);
  for (const Event& e : parsed.events) {
    for (std::uint32_t size :
         {static_cast<std::uint32_t>(log.size() - e.offset - t::kDataAt + 1), 0xFFFFFFFFu}) {
      Bytes bad = log;
      PutU32(bad, e.offset + t::kEventSizeAt, size);
      EXPECT_EQ(ParseStatus(bad).reason(), "tdx.event_log.event.data.truncated") << e.number;
    }
  }
  Bytes bad = log;
  PutU32(bad, kHeaderSize, 0x7FFFFFFF);
  EXPECT_EQ(ParseStatus(bad).reason(), "tdx.event_log.spec_id.truncated");
  PutU32(bad, kHeaderSize, GetU32(log, kHeaderSize) - 1);  // vendorInfoSize falls outside
  EXPECT_EQ(ParseStatus(bad).reason(), "tdx.event_log.spec_id.vendor_info.truncated");
}

TEST(EventLogTest, RejectsBadSpecIdHeaders) {
  const Bytes log = CosLog();
  struct Edit {
    std::size_t offset;
    std::uint8_t value;
    const char* reason;
  };
  const Edit edits[] = {
      {kHeaderType, 2, "tdx.event_log.not_crypto_agile"},
      {kHeaderDigest + 7, 1, "tdx.event_log.header.digest.not_zero"},
      {kSignature, 's', "tdx.event_log.bad_spec_id"},
      {kSignature + 14, '2', "tdx.event_log.not_crypto_agile"},  // "Spec ID Event02"
      {kVersionMajor, 1, "tdx.event_log.bad_spec_id"},
      {kVersionMinor, 1, "tdx.event_log.bad_spec_id"},
      {kUintnSize, 3, "tdx.event_log.bad_spec_id"},
      {kAlgCount, 0, "tdx.event_log.bad_spec_id"},
      {kAlgCount, 9, "tdx.event_log.bad_spec_id"},
      {kAlgCount, 2, "tdx.event_log.spec_id.algorithm.truncated"},
      {kAlgSize, 32, "tdx.event_log.bad_spec_id"},  // SHA-384 of 32 bytes
      {kAlgId, static_cast<std::uint8_t>(kTpmAlgSha256), "tdx.event_log.bad_spec_id"},
      {kAlgId, 0x99, "tdx.event_log.no_sha384"},  // unknown, 48 bytes
  };
  for (const Edit& edit : edits) {
    Bytes bad = log;
    bad[edit.offset] = edit.value;
    EXPECT_EQ(ParseStatus(bad).reason(), edit.reason) << "offset " << edit.offset;
  }
  Bytes bad = log;  // one byte more inside the Spec ID event than its fields use
  bad.insert(bad.begin() + kAlgSize + 3, 0);
  PutU32(bad, kHeaderSize, GetU32(log, kHeaderSize) + 1);
  EXPECT_EQ(ParseStatus(bad).reason(), "tdx.event_log.spec_id.trailing_bytes");
}

TEST(EventLogTest, RejectsDigestsTheHeaderDoesNotDeclare) {
  const Bytes log = CosLog();
  const Event first = t::MustParse(log).events.front();
  Bytes bad = log;
  PutU16(bad, first.offset + t::kAlgIdAt, kTpmAlgSha256);
  Status s = ParseStatus(bad);
  EXPECT_EQ(s.reason(), "tdx.event_log.unknown_algorithm") << s;
  bad = log;
  PutU32(bad, first.offset + t::kDigestCountAt, 2);
  EXPECT_EQ(ParseStatus(bad).reason(), "tdx.event_log.bad_digest_count");
  PutU32(bad, first.offset + t::kDigestCountAt, 0xFFFFFFFF);
  EXPECT_EQ(ParseStatus(bad).reason(), "tdx.event_log.bad_digest_count");
}

// A header declaring SHA-256 and SHA-384, written out by hand, with records of both digests.
TEST(EventLogTest, ReadsTwoAlgorithmLogsAndRejectsDuplicateDigests) {
  Bytes log = CosLog();
  log.resize(kAlgId);
  PutU32(log, kAlgCount, 2);
  for (std::uint16_t v : {kTpmAlgSha256, std::uint16_t{32}, kTpmAlgSha384, std::uint16_t{48}}) {
    log.push_back(static_cast<std::uint8_t>(v));
    log.push_back(static_cast<std::uint8_t>(v >> 8));
  }
  log.push_back(0);  // vendorInfoSize
  PutU32(log, kHeaderSize, static_cast<std::uint32_t>(log.size() - kSignature));
  auto head = ParseEventLog(log);
  ASSERT_TRUE(head.ok()) << head.error();
  auto builder = EventLogBuilder::Continue(*head);
  ASSERT_TRUE(builder.ok()) << builder.error();
  ASSERT_TRUE(builder->Append(2, kEvIpl, AsBytes("grub_cmd: boot")).ok());
  auto both = ParseEventLog(builder->bytes());
  ASSERT_TRUE(both.ok()) << both.error();
  ASSERT_EQ(both->events.size(), 1u);
  EXPECT_EQ(both->events[0].DigestFor(kTpmAlgSha256)->size(), 32u);
  EXPECT_EQ(both->events[0].DigestFor(kTpmAlgSha384)->size(), 48u);
  Bytes bad = builder->bytes();  // the record's second digest (SHA-384) relabelled SHA-256
  PutU16(bad, both->events[0].offset + t::kAlgIdAt + 2 + 32, kTpmAlgSha256);
  EXPECT_EQ(ParseStatus(bad).reason(), "tdx.event_log.duplicate_algorithm");
}

TEST(EventLogTest, PaddingMustBeBlank) {
  Bytes file = ReadEvidence(t::kCosLog);
  const std::size_t end = t::MustParse(file).bytes.size();
  Bytes bad = file;
  bad[bad.size() - 1] = 0xFE;
  Status s = ParseStatus(bad);
  EXPECT_EQ(s.reason(), "tdx.event_log.padding.not_blank");
  EXPECT_NE(s.message().find(std::to_string(bad.size() - 1)), std::string::npos) << s;
  Bytes zeros = t::MustParse(file).bytes;  // zero fill, then a stray byte
  zeros.resize(end + 100, 0);
  EXPECT_TRUE(ParseEventLog(zeros).ok());
  zeros[end + 50] = 1;
  EXPECT_EQ(ParseStatus(zeros).reason(), "tdx.event_log.padding.not_blank");
  Bytes short_fill(file.begin(), file.begin() + static_cast<std::ptrdiff_t>(end + 2));
  auto log = ParseEventLog(short_fill);  // two bytes of 0xFF: too short for a record
  ASSERT_TRUE(log.ok()) << log.error();
  EXPECT_EQ(log->padding, 2u);
}

TEST(EventLogTest, BoundsTheNumberOfEvents) {
  EventLogBuilder builder = EventLogBuilder::New();
  for (std::size_t i = 0; i < kMaxEvents; ++i) ASSERT_TRUE(builder.Append(1, kEvIpl, {}).ok());
  EXPECT_EQ(builder.Append(1, kEvIpl, {}).error().reason(), "tdx.event_log.too_many_events");
  Bytes log = builder.bytes();
  auto full = ParseEventLog(log);
  ASSERT_TRUE(full.ok()) << full.error();
  EXPECT_EQ(full->events.size(), kMaxEvents);
  const std::size_t record = log.size() - full->events.back().offset;
  log.insert(log.end(), log.end() - static_cast<std::ptrdiff_t>(record), log.end());
  auto s = ParseStatus(log);
  EXPECT_EQ(s.code(), Code::kResourceExhausted);
  EXPECT_EQ(s.reason(), "tdx.event_log.too_many_events");
}

TEST(EventLogTest, NamesEventTypesAndAlgorithms) {
  EXPECT_EQ(EventTypeName(kEvNoAction), "EV_NO_ACTION");
  EXPECT_EQ(EventTypeName(0x0D), "EV_IPL");
  EXPECT_EQ(EventTypeName(0x80000001), "EV_EFI_VARIABLE_DRIVER_CONFIG");
  EXPECT_EQ(EventTypeName(0x800000E0), "EV_EFI_VARIABLE_AUTHORITY");
  EXPECT_EQ(EventTypeName(0x13), "EV_POST_CODE2");
  EXPECT_EQ(EventTypeName(0x14), "0x00000014");
  EXPECT_EQ(EventTypeName(0x80000011), "0x80000011");
  EXPECT_EQ(AlgorithmName(kTpmAlgSha384), "SHA-384");
  EXPECT_EQ(AlgorithmName(0x27), "0x0027");
}

}  // namespace
}  // namespace lunal::attest::tdx
