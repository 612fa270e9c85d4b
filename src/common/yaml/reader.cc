#include "lunal/yaml/reader.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <set>

#include "lunal/common/encoding.h"

namespace lunal::yaml {

std::size_t EditDistance(std::string_view a, std::string_view b) {
  // One row of the dynamic-programming table at a time.
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      const std::size_t substitute = diagonal + (a[i - 1] == b[j - 1] ? 0 : 1);
      row[j] = std::min({above + 1, row[j - 1] + 1, substitute});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::optional<std::string_view> ClosestName(std::string_view key,
                                            std::span<const std::string_view> known) {
  std::optional<std::string_view> best;
  std::size_t best_distance = 0;
  for (std::string_view name : known) {
    const std::size_t d = EditDistance(key, name);
    if (!best || d < best_distance) {
      best = name;
      best_distance = d;
    }
  }
  if (!best) return std::nullopt;
  const std::size_t limit = std::max<std::size_t>(2, std::max(key.size(), best->size()) / 3);
  return best_distance <= limit ? best : std::nullopt;
}

std::string FieldPath(std::string_view parent, std::string_view key) {
  return parent.empty() ? std::string(key) : fmt::format("{}.{}", parent, key);
}

std::string Diagnostic::ToString() const {
  const std::string where = line == 0 ? source : fmt::format("{}:{}:{}", source, line, column);
  return fmt::format("{}: {}: {}", where, field.empty() ? "(document)" : field, message);
}

std::string_view KindName(const YAML::Node& node) {
  if (node.IsMap()) return "a mapping";
  if (node.IsSequence()) return "a list";
  if (node.IsNull()) return "null";
  if (node.IsScalar()) return node.Tag() == "?" ? "a plain scalar" : "a quoted string";
  return "nothing";
}

namespace {

std::string KnownList(std::span<const std::string_view> known) {
  return fmt::format("{}", fmt::join(known, ", "));
}

}  // namespace

std::string Reader::Reason(std::string_view what) const {
  return fmt::format("{}.{}", prefix_, what);
}

namespace {

// The offset of the first byte that is not well-formed UTF-8 (RFC 3629 section 4: no overlong
// forms, no surrogates, nothing above U+10FFFF), or nullopt.
std::optional<std::size_t> FirstInvalidUtf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto b = static_cast<unsigned char>(text[i]);
    std::size_t n = 0;
    unsigned char lo = 0x80, hi = 0xbf;  // the allowed range of the second byte
    if (b < 0x80) {
      ++i;
      continue;
    }
    if (b >= 0xc2 && b <= 0xdf) {
      n = 1;
    } else if (b >= 0xe0 && b <= 0xef) {
      n = 2;
      if (b == 0xe0) lo = 0xa0;
      if (b == 0xed) hi = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      n = 3;
      if (b == 0xf0) lo = 0x90;
      if (b == 0xf4) hi = 0x8f;
    } else {
      return i;
    }
    if (n > text.size() - i - 1) return i;
    for (std::size_t k = 1; k <= n; ++k) {
      const auto c = static_cast<unsigned char>(text[i + k]);
      if (c < (k == 1 ? lo : 0x80) || c > (k == 1 ? hi : 0xbf)) return i;
    }
    i += n + 1;
  }
  return std::nullopt;
}

}  // namespace

Result<YAML::Node> Reader::Load(std::string_view text) const {
  // YAML 1.2 section 5.2: a document is Unicode; we read UTF-8 only, so that every string the
  // schema keeps can be printed (as JSON, too).
  if (std::optional<std::size_t> bad = FirstInvalidUtf8(text)) {
    const std::string_view before = text.substr(0, *bad);
    const std::size_t line_start = before.rfind('\n');
    YAML::Mark mark;
    mark.pos = static_cast<int>(*bad);
    mark.line = static_cast<int>(std::count(before.begin(), before.end(), '\n'));
    mark.column =
        static_cast<int>(line_start == std::string_view::npos ? *bad : *bad - line_start - 1);
    return ErrorAt(Reason("encoding"), mark, "",
                   fmt::format("byte 0x{:02x} at offset {} is not UTF-8",
                               static_cast<unsigned char>(text[*bad]), *bad));
  }
  // yaml-cpp reports errors by exception; none escapes this function.
  try {
    return YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return ErrorAt(Reason("syntax"), e.mark, "", e.msg);
  }
}

std::string Reader::Where(const YAML::Mark& mark) const {
  if (mark.is_null()) return source_;
  return fmt::format("{}:{}:{}", source_, mark.line + 1, mark.column + 1);
}

Status Reader::ErrorAt(std::string reason, const YAML::Mark& mark, std::string_view field,
                       std::string_view message) const {
  Diagnostic d{.reason = std::move(reason),
               .source = source_,
               .line = mark.is_null() ? 0 : static_cast<std::size_t>(mark.line) + 1,
               .column = mark.is_null() ? 0 : static_cast<std::size_t>(mark.column) + 1,
               .field = std::string(field),
               .message = std::string(message)};
  Status status = InvalidArgument(d.reason, "{}", d.ToString());
  if (sink_ != nullptr) sink_->push_back(std::move(d));
  return status;
}

Status Reader::Error(std::string reason, const YAML::Node& at, std::string_view field,
                     std::string_view message) const {
  return ErrorAt(std::move(reason), at.Mark(), field, message);
}

Status Reader::WrongType(const YAML::Node& node, std::string_view field,
                         std::string_view want) const {
  return Error(Reason("wrong_type"), node, field,
               fmt::format("expected {}, got {}", want, KindName(node)));
}

Status Reader::Continue(const std::function<Status()>& fn) const {
  const std::size_t before = sink_ != nullptr ? sink_->size() : 0;
  Status status = fn();
  if (status.ok() || sink_ == nullptr) return status;
  if (sink_->size() == before) {
    sink_->push_back(Diagnostic{.reason = status.reason(),
                                .source = source_,
                                .line = 0,
                                .column = 0,
                                .field = "",
                                .message = status.message()});
  }
  return Status();
}

Status Reader::ForEachEntry(const YAML::Node& node, std::string_view field,
                            std::span<const std::string_view> known, const EntryFn& fn) const {
  if (!node.IsMap()) return WrongType(node, field, "a mapping");
  std::set<std::string, std::less<>> seen;
  for (const auto& entry : node) {
    const YAML::Node& key_node = entry.first;
    LUNAL_RETURN_IF_ERROR(Continue([&]() -> Status {
      if (!key_node.IsScalar()) {
        return Error(Reason("wrong_type"), key_node, field,
                     fmt::format("keys must be strings, got {}", KindName(key_node)));
      }
      const std::string& key = key_node.Scalar();
      const std::string path = FieldPath(field, key);
      if (std::find(known.begin(), known.end(), key) == known.end()) {
        std::optional<std::string_view> hint = ClosestName(key, known);
        std::string where = field.empty() ? "at the top level" : fmt::format("in {}", field);
        return Error(Reason("unknown_key"), key_node, path,
                     hint ? fmt::format("unknown key \"{}\" (did you mean \"{}\"?); known keys "
                                        "{}: {}",
                                        key, *hint, where, KnownList(known))
                          : fmt::format("unknown key \"{}\"; known keys {}: {}", key, where,
                                        KnownList(known)));
      }
      if (!seen.insert(key).second) {
        return Error(Reason("duplicate_key"), key_node, path,
                     fmt::format("\"{}\" appears more than once", key));
      }
      // Every field of a schema needs a value; a null one ("key:" alone) is reported at the
      // key, because yaml-cpp marks an empty value at the start of the next line.
      if (entry.second.IsNull()) {
        return Error(Reason("wrong_type"), key_node, path, "no value (null)");
      }
      return fn(key, entry.second, path);
    }));
  }
  return Status();
}

Status Reader::ForEachElement(
    const YAML::Node& node, std::string_view field,
    const std::function<Status(const YAML::Node&, const std::string&)>& fn) const {
  if (!node.IsSequence()) return WrongType(node, field, "a list");
  std::size_t index = 0;
  for (const auto& element : node) {
    LUNAL_RETURN_IF_ERROR(
        Continue([&] { return fn(element, fmt::format("{}[{}]", field, index)); }));
    ++index;
  }
  return Status();
}

Result<bool> Reader::Bool(const YAML::Node& node, std::string_view field) const {
  if (!node.IsScalar() || node.Tag() != "?") return WrongType(node, field, "true or false");
  if (node.Scalar() == "true") return true;
  if (node.Scalar() == "false") return false;
  return Error(Reason("wrong_type"), node, field,
               fmt::format("expected true or false, got \"{}\"", node.Scalar()));
}

Result<std::uint64_t> Reader::Uint(const YAML::Node& node, std::string_view field,
                                   std::uint64_t max) const {
  if (!node.IsScalar() || node.Tag() != "?") return WrongType(node, field, "a number");
  const std::string& text = node.Scalar();
  std::uint64_t value = 0;
  const char* end = text.data() + text.size();
  const bool digits_only = !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return c >= '0' && c <= '9';
  });
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (!digits_only || ec == std::errc::invalid_argument || ptr != end) {
    return Error(Reason("wrong_type"), node, field,
                 fmt::format("expected a decimal number, got \"{}\"", text));
  }
  if (ec == std::errc::result_out_of_range || value > max) {
    return Error(Reason("bad_value"), node, field,
                 fmt::format("{} is out of range (at most {})", text, max));
  }
  return value;
}

Result<std::uint64_t> Reader::UintInRange(const YAML::Node& node, std::string_view field,
                                          std::uint64_t min, std::uint64_t max) const {
  if (!node.IsScalar() || node.Tag() != "?") return WrongType(node, field, "a number");
  LUNAL_ASSIGN_OR_RETURN(std::uint64_t value, Uint(node, field, UINT64_MAX));
  if (value < min || value > max) {
    return Error(Reason("bad_value"), node, field,
                 fmt::format("{} is out of range (must be between {} and {})", value, min, max));
  }
  return value;
}

Result<std::string> Reader::String(const YAML::Node& node, std::string_view field) const {
  if (!node.IsScalar()) return WrongType(node, field, "a string");
  return node.Scalar();
}

Result<Bytes> Reader::Hex(const YAML::Node& node, std::string_view field, std::size_t size) const {
  LUNAL_ASSIGN_OR_RETURN(std::string text, String(node, field));
  Result<Bytes> bytes = HexDecode(text);
  if (!bytes.ok()) {
    return Error(Reason("bad_value"), node, field,
                 fmt::format("expected {} bytes as hex: {}", size, bytes.error().message()));
  }
  if (bytes->size() != size) {
    return Error(Reason("bad_value"), node, field,
                 fmt::format("expected {} bytes ({} hex digits), got {} bytes", size, 2 * size,
                             bytes->size()));
  }
  return bytes;
}

}  // namespace lunal::yaml
