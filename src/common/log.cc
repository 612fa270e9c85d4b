#include "lunal/common/log.h"

#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <mutex>

#include "lunal/common/json.h"
#include "lunal/common/time.h"

namespace lunal::log {
namespace {

std::string_view LevelName(Level level) {
  switch (level) {
    case Level::kTrace:
      return "trace";
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarn:
      return "warn";
    case Level::kError:
      return "error";
    case Level::kOff:
      return "off";
  }
  return "info";
}

spdlog::level::level_enum ToSpd(Level level) {
  switch (level) {
    case Level::kTrace:
      return spdlog::level::trace;
    case Level::kDebug:
      return spdlog::level::debug;
    case Level::kInfo:
      return spdlog::level::info;
    case Level::kWarn:
      return spdlog::level::warn;
    case Level::kError:
      return spdlog::level::err;
    case Level::kOff:
      return spdlog::level::off;
  }
  return spdlog::level::info;
}

// A sink that forwards formatted lines to a callback (tests).
class CallbackSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit CallbackSink(std::function<void(std::string_view)> fn) : fn_(std::move(fn)) {}

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    fn_(std::string_view(msg.payload.data(), msg.payload.size()));
  }
  void flush_() override {}

 private:
  std::function<void(std::string_view)> fn_;
};

struct State {
  std::mutex mu;
  Options options;
  std::shared_ptr<spdlog::logger> logger;
};

State& GetState() {
  static State* const state = [] {
    auto* s = new State();
    s->logger = std::make_shared<spdlog::logger>("lunal",
                                                 std::make_shared<spdlog::sinks::stderr_sink_mt>());
    // We render the whole line ourselves (timestamp included) so both formats share one path.
    s->logger->set_pattern("%v");
    s->logger->set_level(ToSpd(s->options.level));
    return s;
  }();
  return *state;
}

// Text values: strings bare unless they contain spaces, quotes or '=', then JSON-quoted.
std::string TextValue(const Json& v) {
  if (v.is_string()) {
    const auto& s = v.get_ref<const std::string&>();
    bool plain = !s.empty() && s.find_first_of(" \t\r\n\"=") == std::string::npos;
    if (plain) return s;
  }
  return DumpJson(v);
}

}  // namespace

void Init(const Options& options) {
  State& s = GetState();
  std::lock_guard lock(s.mu);
  s.options = options;
  s.logger->set_level(ToSpd(options.level));
}

void SetSinkForTesting(std::function<void(std::string_view)> sink) {
  State& s = GetState();
  std::lock_guard lock(s.mu);
  spdlog::sink_ptr target;
  if (sink) {
    target = std::make_shared<CallbackSink>(std::move(sink));
  } else {
    target = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  }
  s.logger = std::make_shared<spdlog::logger>("lunal", target);
  s.logger->set_pattern("%v");
  s.logger->set_level(ToSpd(s.options.level));
}

Result<Level> ParseLevel(std::string_view name) {
  for (Level l :
       {Level::kTrace, Level::kDebug, Level::kInfo, Level::kWarn, Level::kError, Level::kOff}) {
    if (name == LevelName(l)) return l;
  }
  return InvalidArgument("log.bad_level",
                         "unknown log level \"{}\" (use trace, debug, info, warn, error or off)",
                         name);
}

Result<Format> ParseFormat(std::string_view name) {
  if (name == "text") return Format::kText;
  if (name == "json") return Format::kJson;
  return InvalidArgument("log.bad_format", "unknown log format \"{}\" (use text or json)", name);
}

bool Enabled(Level level) {
  State& s = GetState();
  std::lock_guard lock(s.mu);
  return level != Level::kOff && level >= s.options.level;
}

std::string Render(Format format, Level level, std::string_view timestamp, std::string_view event,
                   std::initializer_list<Field> fields) {
  if (format == Format::kJson) {
    Json line = Json::object();
    // Reserved keys first; a field may not overwrite them.
    line["ts"] = timestamp;
    line["level"] = LevelName(level);
    line["event"] = event;
    for (const auto& [key, value] : fields) {
      std::string k(key);
      if (line.contains(k)) k = "field." + k;
      line[k] = value;
    }
    return DumpJson(line);
  }
  std::string out = fmt::format("{} {} {}", timestamp, LevelName(level), event);
  for (const auto& [key, value] : fields) {
    out += fmt::format(" {}={}", key, TextValue(value));
  }
  return out;
}

void Write(Level level, std::string_view event, std::initializer_list<Field> fields) {
  State& s = GetState();
  std::shared_ptr<spdlog::logger> logger;
  Format format;
  {
    std::lock_guard lock(s.mu);
    if (level == Level::kOff || level < s.options.level) return;
    logger = s.logger;
    format = s.options.format;
  }
  // Millisecond precision keeps lines short; the clock is the real one, logs are not evidence.
  auto now = std::chrono::time_point_cast<std::chrono::milliseconds>(SystemClock::Instance().Now());
  std::string line = Render(format, level, FormatRfc3339(Timestamp(now)), event, fields);
  logger->log(ToSpd(level), "{}", line);
  if (level >= Level::kWarn) logger->flush();
}

}  // namespace lunal::log
