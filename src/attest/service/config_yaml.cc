#include "config_yaml.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <set>

#include "lunal/common/encoding.h"

namespace lunal::attest::service::internal {
namespace {

std::string_view KindName(const YAML::Node& node) {
  if (node.IsMap()) return "a mapping";
  if (node.IsSequence()) return "a list";
  if (node.IsNull()) return "null";
  if (node.IsScalar()) return node.Tag() == "?" ? "a plain scalar" : "a quoted string";
  return "nothing";
}

std::string Child(std::string_view parent, std::string_view key) {
  return parent.empty() ? std::string(key) : fmt::format("{}.{}", parent, key);
}

}  // namespace

Status ConfigReader::Error(std::string reason, const YAML::Node& at, std::string_view field,
                           std::string_view message) const {
  const YAML::Mark mark = at.Mark();
  const std::string where =
      mark.is_null() ? source_ : fmt::format("{}:{}:{}", source_, mark.line + 1, mark.column + 1);
  return InvalidArgument(std::move(reason), "{}: {}: {}", where, field, message);
}

Status ConfigReader::WrongType(const YAML::Node& node, std::string_view field,
                               std::string_view want) const {
  return Error("config.wrong_type", node, field,
               fmt::format("expected {}, got {}", want, KindName(node)));
}

Status ConfigReader::ForEachEntry(const YAML::Node& node, std::string_view field,
                                  std::span<const std::string_view> known,
                                  const EntryFn& fn) const {
  if (!node.IsMap()) return WrongType(node, field, "a mapping");
  std::set<std::string, std::less<>> seen;
  for (const auto& entry : node) {
    const YAML::Node& key_node = entry.first;
    if (!key_node.IsScalar()) return WrongType(key_node, field, "a string key");
    const std::string& key = key_node.Scalar();
    const std::string path = Child(field, key);
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      return Error("config.unknown_key", key_node, path,
                   fmt::format("unknown key \"{}\" (known keys in {}: {})", key, field,
                               fmt::join(known, ", ")));
    }
    if (!seen.insert(key).second) {
      return Error("config.duplicate_key", key_node, path,
                   fmt::format("\"{}\" appears more than once", key));
    }
    // yaml-cpp marks an empty value at the next line: report a missing value at its key.
    if (entry.second.IsNull()) return Error("config.wrong_type", key_node, path, "no value");
    LUNAL_RETURN_IF_ERROR(fn(key, entry.second, path));
  }
  return Status();
}

Status ConfigReader::ForEachElement(
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

Result<bool> ConfigReader::Bool(const YAML::Node& node, std::string_view field) const {
  // Plain "true"/"false" only: YAML 1.1's yes/no/on/off are too easy to write by accident.
  if (!node.IsScalar() || node.Tag() != "?") return WrongType(node, field, "true or false");
  if (node.Scalar() == "true") return true;
  if (node.Scalar() == "false") return false;
  return Error("config.wrong_type", node, field,
               fmt::format("expected true or false, got \"{}\"", node.Scalar()));
}

Result<std::uint64_t> ConfigReader::Uint(const YAML::Node& node, std::string_view field,
                                         std::uint64_t min, std::uint64_t max) const {
  if (!node.IsScalar() || node.Tag() != "?") return WrongType(node, field, "a number");
  const std::string& text = node.Scalar();
  const bool digits = !text.empty() && std::all_of(text.begin(), text.end(),
                                                   [](char c) { return c >= '0' && c <= '9'; });
  std::uint64_t value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (!digits || ec == std::errc::invalid_argument || ptr != text.data() + text.size()) {
    return Error("config.wrong_type", node, field,
                 fmt::format("expected a decimal number, got \"{}\"", text));
  }
  if (ec == std::errc::result_out_of_range || value < min || value > max) {
    return Error("config.bad_value", node, field,
                 fmt::format("{} is out of range ({} to {})", text, min, max));
  }
  return value;
}

Result<std::string> ConfigReader::String(const YAML::Node& node, std::string_view field) const {
  if (!node.IsScalar()) return WrongType(node, field, "a string");
  if (node.Scalar().empty()) return Error("config.bad_value", node, field, "empty");
  return node.Scalar();
}

Result<Bytes> ConfigReader::Hex(const YAML::Node& node, std::string_view field,
                                std::size_t size) const {
  LUNAL_ASSIGN_OR_RETURN(std::string text, String(node, field));
  Result<Bytes> bytes = HexDecode(text);
  if (!bytes.ok() || bytes->size() != size) {
    return Error("config.bad_value", node, field,
                 fmt::format("expected {} bytes as {} hex digits", size, 2 * size));
  }
  return std::move(*bytes);
}

}  // namespace lunal::attest::service::internal
