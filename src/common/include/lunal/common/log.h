// Structured logging over spdlog.
//
// A log line is an event name (dotted, stable: "http.request", "collateral.refreshed") plus
// key/value fields, rendered either as text for people or as one JSON object per line for
// machines:
//   text: 2026-11-21T10:00:00.123Z info http.request method=GET path=/healthz status=200
//   json:
//   {"ts":"2026-11-21T10:00:00.123Z","level":"info","event":"http.request","method":"GET",...}
//
//   log::Info("http.request", {{"method", "GET"}, {"status", 200}});
//
// Logging is process-wide and thread-safe. Never log secrets, keys, tokens or evidence payloads.
#pragma once

#include <functional>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

#include "lunal/common/json.h"
#include "lunal/common/result.h"

namespace lunal::log {

enum class Level { kTrace, kDebug, kInfo, kWarn, kError, kOff };
enum class Format { kText, kJson };

struct Options {
  Level level = Level::kInfo;
  Format format = Format::kText;
};

// Logs go to stderr. Call once from main (later calls replace the settings).
void Init(const Options& options);

// Sends every rendered line (without the trailing newline) to `sink` instead of stderr; for tests.
// Passing an empty function restores stderr.
void SetSinkForTesting(std::function<void(std::string_view line)> sink);

// "trace", "debug", "info", "warn", "error", "off". Errors: log.bad_level.
Result<Level> ParseLevel(std::string_view name);
Result<Format> ParseFormat(std::string_view name);

using Field = std::pair<std::string_view, Json>;

bool Enabled(Level level);
void Write(Level level, std::string_view event, std::initializer_list<Field> fields = {});

inline void Debug(std::string_view event, std::initializer_list<Field> fields = {}) {
  Write(Level::kDebug, event, fields);
}
inline void Info(std::string_view event, std::initializer_list<Field> fields = {}) {
  Write(Level::kInfo, event, fields);
}
inline void Warn(std::string_view event, std::initializer_list<Field> fields = {}) {
  Write(Level::kWarn, event, fields);
}
inline void Error(std::string_view event, std::initializer_list<Field> fields = {}) {
  Write(Level::kError, event, fields);
}

// Renders one line without writing it (the function Write uses; exposed for tests).
std::string Render(Format format, Level level, std::string_view timestamp, std::string_view event,
                   std::initializer_list<Field> fields);

}  // namespace lunal::log
