#include "lunal/common/time.h"

#include <gtest/gtest.h>

namespace lunal {
namespace {

using std::chrono::seconds;

TEST(Rfc3339Test, ParsesUtcAndFormatsBack) {
  auto t = ParseRfc3339("2026-03-31T22:25:04Z");
  ASSERT_TRUE(t.ok()) << t.error();
  EXPECT_EQ(ToUnixSeconds(*t), 1774995904);
  EXPECT_EQ(FormatRfc3339(*t), "2026-03-31T22:25:04Z");
}

TEST(Rfc3339Test, OffsetsAndLowercase) {
  auto a = ParseRfc3339("2026-04-01T00:25:04+02:00");
  auto b = ParseRfc3339("2026-03-31t17:25:04-05:00");
  auto c = ParseRfc3339("2026-03-31T22:25:04z");
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(FormatRfc3339(*a), "2026-03-31T22:25:04Z");
  EXPECT_EQ(*a, *b);
  EXPECT_EQ(*a, *c);
}

TEST(Rfc3339Test, Fractions) {
  auto t = ParseRfc3339("2026-03-31T22:25:04.5Z");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(FormatRfc3339(*t), "2026-03-31T22:25:04.5Z");
  auto nanos = ParseRfc3339("2026-03-31T22:25:04.123456789Z");  // truncated to micros
  ASSERT_TRUE(nanos.ok());
  EXPECT_EQ(FormatRfc3339(*nanos), "2026-03-31T22:25:04.123456Z");
  EXPECT_EQ(ParseRfc3339("2026-03-31T22:25:04.1234567890Z").error().reason(),
            "time.rfc3339.syntax");
  EXPECT_EQ(ParseRfc3339("2026-03-31T22:25:04.Z").error().reason(), "time.rfc3339.syntax");
}

TEST(Rfc3339Test, EpochAndFarFuture) {
  EXPECT_EQ(ToUnixSeconds(*ParseRfc3339("1970-01-01T00:00:00Z")), 0);
  auto far = ParseRfc3339("9999-12-31T23:59:59Z");
  ASSERT_TRUE(far.ok());
  EXPECT_EQ(FormatRfc3339(*far), "9999-12-31T23:59:59Z");
  EXPECT_EQ(FormatRfc3339(FromUnixSeconds(951782400)), "2000-02-29T00:00:00Z");
}

TEST(Rfc3339Test, LeapSecondOnlyAtEndOfDay) {
  auto leap = ParseRfc3339("2016-12-31T23:59:60Z");
  ASSERT_TRUE(leap.ok());
  EXPECT_EQ(FormatRfc3339(*leap), "2017-01-01T00:00:00Z");
  auto leap_offset = ParseRfc3339("2016-12-31T15:59:60-08:00");
  ASSERT_TRUE(leap_offset.ok());
  EXPECT_EQ(*leap_offset, *leap);
  EXPECT_EQ(ParseRfc3339("2016-12-31T12:00:60Z").error().reason(), "time.rfc3339.range");
}

TEST(Rfc3339Test, RejectsBadInputWithPosition) {
  struct Case {
    const char* text;
    const char* reason;
  };
  const Case cases[] = {
      {"", "time.rfc3339.syntax"},
      {"2026-03-31", "time.rfc3339.syntax"},
      {"2026-03-31T22:25:04", "time.rfc3339.syntax"},   // offset required
      {"2026-03-31 22:25:04Z", "time.rfc3339.syntax"},  // space separator
      {"26-03-31T22:25:04Z", "time.rfc3339.syntax"},
      {"2026-3-31T22:25:04Z", "time.rfc3339.syntax"},
      {"2026-03-31T22:25:04ZZ", "time.rfc3339.syntax"},
      {"2026-03-31T22:25:04+0200", "time.rfc3339.syntax"},
      {"2026-02-29T00:00:00Z", "time.rfc3339.range"},  // not a leap year
      {"2026-13-01T00:00:00Z", "time.rfc3339.range"},
      {"2026-04-31T00:00:00Z", "time.rfc3339.range"},
      {"2026-03-31T24:00:00Z", "time.rfc3339.range"},
      {"2026-03-31T23:60:00Z", "time.rfc3339.range"},
      {"2026-03-31T23:00:00+24:00", "time.rfc3339.range"},
  };
  for (const auto& c : cases) {
    auto r = ParseRfc3339(c.text);
    ASSERT_FALSE(r.ok()) << c.text << " was accepted";
    EXPECT_EQ(r.error().reason(), c.reason) << c.text;
  }
  EXPECT_EQ(ParseRfc3339("2026-03-31X22:25:04Z").error().message(),
            "invalid RFC 3339 time \"2026-03-31X22:25:04Z\": expected 'T' at position 10");
}

TEST(ClockTest, FakeClockMovesOnlyWhenTold) {
  FakeClock clock(*ParseRfc3339("2026-01-01T00:00:00Z"));
  const Clock& c = clock;
  EXPECT_EQ(FormatRfc3339(c.Now()), "2026-01-01T00:00:00Z");
  clock.Advance(seconds(90));
  EXPECT_EQ(FormatRfc3339(c.Now()), "2026-01-01T00:01:30Z");
  clock.Set(FromUnixSeconds(0));
  EXPECT_EQ(ToUnixSeconds(c.Now()), 0);
}

TEST(ClockTest, SystemClockIsAfter2025) {
  EXPECT_GT(SystemClock::Instance().Now(), *ParseRfc3339("2025-01-01T00:00:00Z"));
}

}  // namespace
}  // namespace lunal
