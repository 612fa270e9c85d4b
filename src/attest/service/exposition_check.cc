#include "exposition_check.h"

#include <fmt/format.h>

#include <cmath>
#include <cstdlib>
#include <optional>
#include <set>
#include <vector>

namespace lunal::attest::service::testing {
namespace {

struct Error {
  std::size_t line;
  Status Make(std::string_view what) const {
    return InvalidArgument("exposition.invalid", "line {}: {}", line, what);
  }
};

bool IsNameStart(char c, bool colon) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon && c == ':');
}
bool IsNameChar(char c, bool colon) { return IsNameStart(c, colon) || (c >= '0' && c <= '9'); }

bool ValidName(std::string_view name, bool colon) {
  if (name.empty() || !IsNameStart(name[0], colon)) return false;
  for (char c : name) {
    if (!IsNameChar(c, colon)) return false;
  }
  return true;
}

std::optional<double> ParseValue(std::string_view text) {
  if (text == "NaN") return std::nan("");
  if (text == "+Inf" || text == "Inf") return INFINITY;
  if (text == "-Inf") return -INFINITY;
  if (text.empty()) return std::nullopt;
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-')) {
      return std::nullopt;
    }
  }
  std::string copy(text);
  char* end = nullptr;
  const double value = std::strtod(copy.c_str(), &end);
  if (end != copy.c_str() + copy.size()) return std::nullopt;
  return value;
}

struct Sample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

Result<Sample> ParseSample(std::string_view line, const Error& err) {
  Sample s;
  std::size_t i = 0;
  while (i < line.size() && line[i] != '{' && line[i] != ' ') ++i;
  s.name = std::string(line.substr(0, i));
  if (!ValidName(s.name, true)) return err.Make(fmt::format("bad metric name \"{}\"", s.name));
  if (i < line.size() && line[i] == '{') {
    ++i;
    while (true) {
      std::size_t start = i;
      while (i < line.size() && line[i] != '=') ++i;
      const std::string label(line.substr(start, i - start));
      if (!ValidName(label, false) || label.starts_with("__")) {
        return err.Make(fmt::format("bad label name \"{}\"", label));
      }
      if (i + 1 >= line.size() || line[i + 1] != '"') return err.Make("label value not quoted");
      i += 2;
      std::string value;
      for (;; ++i) {
        if (i >= line.size()) return err.Make("unterminated label value");
        if (line[i] == '"') break;
        if (line[i] == '\\') {
          if (i + 1 >= line.size()) return err.Make("dangling escape");
          const char e = line[++i];
          if (e == '\\' || e == '"') {
            value += e;
          } else if (e == 'n') {
            value += '\n';
          } else {
            return err.Make(fmt::format("bad escape \\{} in a label value", e));
          }
        } else {
          value += line[i];
        }
      }
      ++i;  // closing quote
      if (!s.labels.emplace(label, value).second) {
        return err.Make(fmt::format("label \"{}\" repeated", label));
      }
      if (i < line.size() && line[i] == ',') {
        ++i;
        continue;
      }
      if (i < line.size() && line[i] == '}') {
        ++i;
        break;
      }
      return err.Make("expected ',' or '}' after a label");
    }
  }
  if (i >= line.size() || line[i] != ' ') return err.Make("expected one space before the value");
  std::string_view rest = line.substr(i + 1);
  // An optional timestamp (integer milliseconds) after the value.
  const std::size_t space = rest.find(' ');
  const std::string_view value_text = rest.substr(0, space);
  if (space != std::string_view::npos) {
    const std::string_view ts = rest.substr(space + 1);
    if (ts.empty() || ts.find_first_not_of("-0123456789") != std::string_view::npos) {
      return err.Make("bad timestamp");
    }
  }
  auto value = ParseValue(value_text);
  if (!value) return err.Make(fmt::format("bad value \"{}\"", value_text));
  s.value = *value;
  return s;
}

std::string Key(const Sample& s) {
  if (s.labels.empty()) return s.name;
  std::string key = s.name + "{";
  bool first = true;
  for (const auto& [k, v] : s.labels) {
    key += fmt::format("{}{}=\"{}\"", first ? "" : ",", k, v);
    first = false;
  }
  return key + "}";
}

// The family a sample name belongs to, given the declared families.
std::string FamilyOf(const std::string& name, const std::map<std::string, std::string>& types) {
  for (std::string_view suffix : {"_bucket", "_sum", "_count"}) {
    if (name.ends_with(suffix)) {
      const std::string base = name.substr(0, name.size() - suffix.size());
      auto it = types.find(base);
      if (it != types.end() && (it->second == "histogram" || it->second == "summary")) return base;
    }
  }
  return name;
}

struct Histogram {
  std::vector<std::pair<double, double>> buckets;  // le, count (in order of appearance)
  std::optional<double> count;
  bool sum = false;
};

}  // namespace

Result<std::map<std::string, double>> ParseExposition(std::string_view text) {
  if (text.empty() || text.back() != '\n') {
    return InvalidArgument("exposition.invalid", "the exposition must end with a line feed");
  }
  std::map<std::string, std::string> types;  // family → type
  std::set<std::string> helped, finished;
  std::string current;  // the family whose samples are being read
  std::map<std::string, double> samples;
  std::map<std::string, Histogram> histograms;
  std::size_t line_number = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t end = text.find('\n', pos);
    const std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    const Error err{++line_number};
    if (line.empty()) return err.Make("empty line");
    if (line.starts_with("#")) {
      const bool help = line.starts_with("# HELP ");
      const bool type = line.starts_with("# TYPE ");
      if (!help && !type) return err.Make("only # HELP and # TYPE comments are expected");
      std::string_view rest = line.substr(7);
      const std::size_t space = rest.find(' ');
      if (space == std::string_view::npos) return err.Make("HELP/TYPE without text");
      const std::string name(rest.substr(0, space));
      const std::string_view arg = rest.substr(space + 1);
      if (!ValidName(name, true)) return err.Make(fmt::format("bad metric name \"{}\"", name));
      if (finished.contains(name) || (name != current && samples.contains(name))) {
        return err.Make(fmt::format("{}: HELP/TYPE after its samples", name));
      }
      if (!current.empty() && name != current) finished.insert(current);
      current = name;
      if (help) {
        if (!helped.insert(name).second) return err.Make(fmt::format("{}: second HELP", name));
        for (std::size_t i = 0; i < arg.size(); ++i) {
          if (arg[i] == '\\' &&
              (i + 1 >= arg.size() || (arg[i + 1] != '\\' && arg[i + 1] != 'n'))) {
            return err.Make("bad escape in HELP");
          }
          if (arg[i] == '\\') ++i;
        }
      } else {
        static const std::set<std::string_view> kTypes = {"counter", "gauge", "histogram",
                                                          "summary", "untyped"};
        if (!kTypes.contains(arg)) return err.Make(fmt::format("unknown type \"{}\"", arg));
        if (!types.emplace(name, std::string(arg)).second) {
          return err.Make(fmt::format("{}: second TYPE", name));
        }
      }
      continue;
    }
    LUNAL_ASSIGN_OR_RETURN(Sample s, ParseSample(line, err));
    const std::string family = FamilyOf(s.name, types);
    if (family != current) {
      if (finished.contains(family) || samples.contains(family)) {
        return err.Make(fmt::format("{}: samples not contiguous", family));
      }
      if (!current.empty()) finished.insert(current);
      current = family;
    }
    const std::string type = types.contains(family) ? types.at(family) : "untyped";
    if (type == "counter") {
      if (!family.ends_with("_total"))
        return err.Make(fmt::format("counter {} lacks _total", family));
      if (!(s.value >= 0)) return err.Make("a counter is negative or NaN");
    }
    if (type == "histogram") {
      Histogram& h = histograms[family];
      if (s.name == family + "_bucket") {
        auto le = s.labels.find("le");
        if (le == s.labels.end()) return err.Make("a bucket without le");
        auto bound = ParseValue(le->second);
        if (!bound) return err.Make("bad le");
        if (!h.buckets.empty() && !(*bound > h.buckets.back().first)) {
          return err.Make("le not increasing");
        }
        if (!h.buckets.empty() && s.value < h.buckets.back().second) {
          return err.Make("bucket counts decrease");
        }
        h.buckets.emplace_back(*bound, s.value);
      } else if (s.name == family + "_count") {
        h.count = s.value;
      } else if (s.name == family + "_sum") {
        h.sum = true;
      } else {
        return err.Make(fmt::format("{} is not a sample of histogram {}", s.name, family));
      }
    } else if (s.name != family) {
      return err.Make(fmt::format("{} does not belong to family {}", s.name, family));
    }
    if (!samples.emplace(Key(s), s.value).second) {
      return err.Make(fmt::format("sample {} repeated", Key(s)));
    }
  }
  for (const auto& [family, h] : histograms) {
    if (h.buckets.empty() || !std::isinf(h.buckets.back().first)) {
      return InvalidArgument("exposition.invalid", "{}: no +Inf bucket", family);
    }
    if (!h.count || *h.count != h.buckets.back().second || !h.sum) {
      return InvalidArgument("exposition.invalid", "{}: _count/_sum missing or _count != +Inf",
                             family);
    }
  }
  return samples;
}

}  // namespace lunal::attest::service::testing
