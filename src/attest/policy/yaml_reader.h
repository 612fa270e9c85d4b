// Strict, position-aware reading of yaml-cpp nodes for the policy parser: every error names
// "<source>:<line>:<column>: <field>: ..." and has a stable policy.* reason. yaml-cpp is used
// only behind this header (and policy_parse.cc), never in the public interface.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "lunal/common/bytes.h"
#include "lunal/common/result.h"

namespace lunal::attest::policy::internal {

// Levenshtein distance (insertions, deletions, substitutions; each costs 1).
std::size_t EditDistance(std::string_view a, std::string_view b);
// The known name closest to `key` if it is close enough to be a plausible typo (at most 2 edits,
// or a third of the longer name), else nullopt.
std::optional<std::string_view> ClosestName(std::string_view key,
                                            std::span<const std::string_view> known);

// "a.b" from ("a", "b"); "b" from ("", "b").
std::string FieldPath(std::string_view parent, std::string_view key);

class YamlReader {
 public:
  explicit YamlReader(std::string_view source) : source_(source) {}

  // "<source>:<line>:<column>" of a node (1-based).
  std::string Where(const YAML::Mark& mark) const;
  Status Error(std::string reason, const YAML::Node& at, std::string_view field,
               std::string_view message) const;

  using EntryFn = std::function<Status(std::string_view key, const YAML::Node& value,
                                       const std::string& field)>;
  // `node` must be a mapping whose keys are scalars from `known`, each at most once; calls `fn`
  // for each entry in document order. An unknown key's error suggests the closest known one.
  Status ForEachEntry(const YAML::Node& node, std::string_view field,
                      std::span<const std::string_view> known, const EntryFn& fn) const;
  // `node` must be a sequence; calls `fn` for each element with the field "field[i]".
  Status ForEachElement(
      const YAML::Node& node, std::string_view field,
      const std::function<Status(const YAML::Node&, const std::string&)>& fn) const;

  // Scalars. Booleans and numbers must be plain (unquoted) scalars: "true"/"false" only (not
  // YAML 1.1's yes/no/on/off), decimal digits only, at most `max`.
  Result<bool> Bool(const YAML::Node& node, std::string_view field) const;
  Result<std::uint64_t> Uint(const YAML::Node& node, std::string_view field,
                             std::uint64_t max) const;
  Result<std::string> String(const YAML::Node& node, std::string_view field) const;
  // Hex of exactly `size` bytes (either case).
  Result<Bytes> Hex(const YAML::Node& node, std::string_view field, std::size_t size) const;

 private:
  Status WrongType(const YAML::Node& node, std::string_view field, std::string_view want) const;

  std::string source_;
};

}  // namespace lunal::attest::policy::internal
