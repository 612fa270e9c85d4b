// RFC 3339 timestamps and an injectable clock.
//
// Every component that decides something by time (collateral validity, certificate expiry, token
// lifetimes, nonce TTLs) takes a `const Clock&` or an explicit as-of `Timestamp`, never the system
// time directly, so that tests and verifications "as of" a past date are exact and repeatable.
#pragma once

#include <atomic>
#include <chrono>
#include <string>
#include <string_view>

#include "lunal/common/result.h"

namespace lunal {

// Microseconds since the Unix epoch, UTC. int64 microseconds span ±292,000 years, so X.509's
// 9999-12-31 "no expiry" converts without overflow.
using Timestamp = std::chrono::sys_time<std::chrono::microseconds>;

// Parses RFC 3339 §5.6 `date-time`: "2026-03-31T22:25:04Z", "2026-03-31t22:25:04.5+02:00".
// Strict: four-digit year, two-digit fields, real calendar dates, 'T' or 't' separator, an
// offset ('Z', 'z' or ±hh:mm) is required, at most 9 fraction digits (kept to microseconds,
// truncated). A leap second (":60") is accepted only as the last second of a UTC day, read as the
// first instant of the next minute. Errors (kMalformed): time.rfc3339.syntax, time.rfc3339.range.
Result<Timestamp> ParseRfc3339(std::string_view text);

// Formats in UTC with 'Z'. Whole seconds print without a fraction ("2026-03-31T22:25:04Z");
// otherwise the fraction is printed with trailing zeros removed ("…04.5Z").
std::string FormatRfc3339(Timestamp t);

// Whole-second conversions (X.509, JWT `exp`, Intel collateral dates).
inline std::chrono::sys_seconds ToSeconds(Timestamp t) {
  return std::chrono::floor<std::chrono::seconds>(t);
}
inline Timestamp FromSeconds(std::chrono::sys_seconds t) { return Timestamp(t); }
inline Timestamp FromUnixSeconds(std::int64_t s) { return Timestamp(std::chrono::seconds(s)); }
inline std::int64_t ToUnixSeconds(Timestamp t) { return ToSeconds(t).time_since_epoch().count(); }

// The source of "now". Implementations are thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual Timestamp Now() const = 0;
};

// The system's real-time clock.
class SystemClock final : public Clock {
 public:
  Timestamp Now() const override;
  // A process-wide instance, for wiring in mains.
  static const SystemClock& Instance();
};

// A clock that only moves when told to: for tests and for "as of" evaluation.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(Timestamp start) : now_(start.time_since_epoch().count()) {}
  Timestamp Now() const override {
    return Timestamp(std::chrono::microseconds(now_.load(std::memory_order_relaxed)));
  }
  void Set(Timestamp t) { now_.store(t.time_since_epoch().count(), std::memory_order_relaxed); }
  void Advance(std::chrono::microseconds d) {
    now_.fetch_add(d.count(), std::memory_order_relaxed);
  }

 private:
  std::atomic<std::int64_t> now_;
};

}  // namespace lunal
