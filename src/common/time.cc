#include "lunal/common/time.h"

#include <fmt/format.h>

namespace lunal {
namespace {

// Reads exactly `width` ASCII digits at `pos`.
bool ReadDigits(std::string_view s, std::size_t pos, std::size_t width, int* out) {
  if (pos + width > s.size()) return false;
  int v = 0;
  for (std::size_t i = pos; i < pos + width; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

Status SyntaxError(std::string_view text, std::size_t pos, std::string_view expected) {
  return Malformed("time.rfc3339.syntax",
                   "invalid RFC 3339 time \"{}\": expected {} at position {}", text, expected, pos);
}

}  // namespace

Result<Timestamp> ParseRfc3339(std::string_view text) {
  using namespace std::chrono;
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  // Grammar positions: YYYY-MM-DDTHH:MM:SS, fixed widths (RFC 3339 §5.6).
  struct Field {
    std::size_t pos, width;
    int* out;
    const char* name;
    char separator_after;
  };
  const Field fields[] = {
      {0, 4, &year, "4-digit year", '-'},      {5, 2, &month, "2-digit month", '-'},
      {8, 2, &day, "2-digit day", 'T'},        {11, 2, &hour, "2-digit hour", ':'},
      {14, 2, &minute, "2-digit minute", ':'}, {17, 2, &second, "2-digit second", '\0'},
  };
  for (const Field& f : fields) {
    if (!ReadDigits(text, f.pos, f.width, f.out)) return SyntaxError(text, f.pos, f.name);
    std::size_t sep = f.pos + f.width;
    if (f.separator_after == '\0') continue;
    bool ok = sep < text.size() &&
              (text[sep] == f.separator_after || (f.separator_after == 'T' && text[sep] == 't'));
    if (!ok) return SyntaxError(text, sep, fmt::format("'{}'", f.separator_after));
  }
  std::size_t pos = 19;
  std::int64_t micros = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    std::size_t start = pos;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      if (pos - start < 6) micros = micros * 10 + (text[pos] - '0');
      ++pos;
    }
    std::size_t digits = pos - start;
    if (digits == 0 || digits > 9) return SyntaxError(text, start, "1 to 9 fraction digits");
    for (std::size_t i = digits; i < 6; ++i) micros *= 10;
  }
  if (pos >= text.size()) return SyntaxError(text, pos, "'Z' or a ±hh:mm offset");
  int offset_minutes = 0;
  if (text[pos] == 'Z' || text[pos] == 'z') {
    ++pos;
  } else if (text[pos] == '+' || text[pos] == '-') {
    int oh = 0, om = 0;
    if (!ReadDigits(text, pos + 1, 2, &oh) || pos + 3 >= text.size() || text[pos + 3] != ':' ||
        !ReadDigits(text, pos + 4, 2, &om)) {
      return SyntaxError(text, pos, "a ±hh:mm offset");
    }
    if (oh > 23 || om > 59) {
      return Malformed("time.rfc3339.range", "offset out of range in \"{}\"", text);
    }
    offset_minutes = (text[pos] == '-' ? -1 : 1) * (oh * 60 + om);
    pos += 6;
  } else {
    return SyntaxError(text, pos, "'Z' or a ±hh:mm offset");
  }
  if (pos != text.size()) return SyntaxError(text, pos, "end of input");

  year_month_day ymd{std::chrono::year(year), std::chrono::month(static_cast<unsigned>(month)),
                     std::chrono::day(static_cast<unsigned>(day))};
  if (!ymd.ok() || hour > 23 || minute > 59 || second > 60) {
    return Malformed("time.rfc3339.range", "no such date or time: \"{}\"", text);
  }
  auto local = sys_days(ymd) + hours(hour) + minutes(minute) + seconds(second);
  auto utc = local - minutes(offset_minutes);
  if (second == 60) {
    // RFC 3339 §5.7: a leap second can only be the last second of a UTC day.
    // With second == 60 the sum above already rolled over, so a valid one lands on midnight.
    if (utc - floor<days>(utc) != seconds(0)) {
      return Malformed("time.rfc3339.range", "leap second not at the end of a UTC day: \"{}\"",
                       text);
    }
  }
  return Timestamp(duration_cast<microseconds>(utc.time_since_epoch()) + microseconds(micros));
}

std::string FormatRfc3339(Timestamp t) {
  using namespace std::chrono;
  auto day_start = floor<days>(t);
  year_month_day ymd{day_start};
  hh_mm_ss<microseconds> tod{t - day_start};
  std::string out =
      fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                  tod.hours().count(), tod.minutes().count(), tod.seconds().count());
  auto frac = tod.subseconds().count();
  if (frac != 0) {
    std::string digits = fmt::format("{:06}", frac);
    while (digits.back() == '0') digits.pop_back();
    out += '.';
    out += digits;
  }
  out += 'Z';
  return out;
}

Timestamp SystemClock::Now() const {
  return std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
}

const SystemClock& SystemClock::Instance() {
  static const SystemClock clock;
  return clock;
}

}  // namespace lunal
