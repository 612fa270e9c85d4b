#include "yaml_reader.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <set>
#include <vector>

#include "lunal/common/encoding.h"

namespace lunal::attest::policy::internal {

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

std::string YamlReader::Where(const YAML::Mark& mark) const {
  if (mark.is_null()) return source_;
  return fmt::format("{}:{}:{}", source_, mark.line + 1, mark.column + 1);
}

Status YamlReader::Error(std::string reason, const YAML::Node& at, std::string_view field,
                         std::string_view message) const {
  return InvalidArgument(std::move(reason), "{}: {}: {}", Where(at.Mark()),
                         field.empty() ? "(document)" : field, message);
}

namespace {

std::string_view KindName(const YAML::Node& node) {
  if (node.IsMap()) return "a mapping";
  if (node.IsSequence()) return "a list";
  if (node.IsNull()) return "null";
  if (node.IsScalar()) return node.Tag() == "?" ? "a plain scalar" : "a quoted string";
  return "nothing";
}

std::string KnownList(std::span<const std::string_view> known) {
  return fmt::format("{}", fmt::join(known, ", "));
}

}  // namespace

Status YamlReader::WrongType(const YAML::Node& node, std::string_view field,
                             std::string_view want) const {
  return Error("policy.wrong_type", node, field,
               fmt::format("expected {}, got {}", want, KindName(node)));
}

Status YamlReader::ForEachEntry(const YAML::Node& node, std::string_view field,
                                std::span<const std::string_view> known, const EntryFn& fn) const {
  if (!node.IsMap()) return WrongType(node, field, "a mapping");
  std::set<std::string, std::less<>> seen;
  for (const auto& entry : node) {
    const YAML::Node& key_node = entry.first;
    if (!key_node.IsScalar()) {
      return Error("policy.wrong_type", key_node, field,
                   fmt::format("keys must be strings, got {}", KindName(key_node)));
    }
    const std::string& key = key_node.Scalar();
    const std::string path = FieldPath(field, key);
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      std::optional<std::string_view> hint = ClosestName(key, known);
      std::string where = field.empty() ? "at the top level" : fmt::format("in {}", field);
      return Error(
          "policy.unknown_key", key_node, path,
          hint
              ? fmt::format("unknown key \"{}\" (did you mean \"{}\"?); known keys {}: {}", key,
                            *hint, where, KnownList(known))
              : fmt::format("unknown key \"{}\"; known keys {}: {}", key, where, KnownList(known)));
    }
    if (!seen.insert(key).second) {
      return Error("policy.duplicate_key", key_node, path,
                   fmt::format("\"{}\" appears more than once", key));
    }
    // Every field of the schema needs a value; a null one ("key:" alone) is reported at the
    // key, because yaml-cpp marks an empty value at the start of the next line.
    if (entry.second.IsNull()) {
      return Error("policy.wrong_type", key_node, path, "no value (null)");
    }
    LUNAL_RETURN_IF_ERROR(fn(key, entry.second, path));
  }
  return Status();
}

Status YamlReader::ForEachElement(
    const YAML::Node& node, std::string_view field,
    const std::function<Status(const YAML::Node&, const std::string&)>& fn) const {
  if (!node.IsSequence()) return WrongType(node, field, "a list");
  std::size_t index = 0;
  for (const auto& element : node) {
    LUNAL_RETURN_IF_ERROR(fn(element, fmt::format("{}[{}]", field, index)));
    ++index;
  }
  return Status();
}

Result<bool> YamlReader::Bool(const YAML::Node& node, std::string_view field) const {
  if (!node.IsScalar() || node.Tag() != "?") return WrongType(node, field, "true or false");
  if (node.Scalar() == "true") return true;
  if (node.Scalar() == "false") return false;
  return Error("policy.wrong_type", node, field,
               fmt::format("expected true or false, got \"{}\"", node.Scalar()));
}

Result<std::uint64_t> YamlReader::Uint(const YAML::Node& node, std::string_view field,
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
    return Error("policy.wrong_type", node, field,
                 fmt::format("expected a decimal number, got \"{}\"", text));
  }
  if (ec == std::errc::result_out_of_range || value > max) {
    return Error("policy.bad_value", node, field,
                 fmt::format("{} is out of range (at most {})", text, max));
  }
  return value;
}

Result<std::string> YamlReader::String(const YAML::Node& node, std::string_view field) const {
  if (!node.IsScalar()) return WrongType(node, field, "a string");
  return node.Scalar();
}

Result<Bytes> YamlReader::Hex(const YAML::Node& node, std::string_view field,
                              std::size_t size) const {
  LUNAL_ASSIGN_OR_RETURN(std::string text, String(node, field));
  Result<Bytes> bytes = HexDecode(text);
  if (!bytes.ok()) {
    return Error("policy.bad_value", node, field,
                 fmt::format("expected {} bytes as hex: {}", size, bytes.error().message()));
  }
  if (bytes->size() != size) {
    return Error("policy.bad_value", node, field,
                 fmt::format("expected {} bytes ({} hex digits), got {} bytes", size, 2 * size,
                             bytes->size()));
  }
  return bytes;
}

}  // namespace lunal::attest::policy::internal
