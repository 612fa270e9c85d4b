// Strict, position-aware reading of yaml-cpp nodes for the service configuration: every error is
// "<file>:<line>:<column>: <field>: ..." with a stable config.* reason. Private to attest/service;
// yaml-cpp never appears in the public headers.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>

#include "lunal/common/bytes.h"
#include "lunal/common/result.h"

namespace lunal::attest::service::internal {

class ConfigReader {
 public:
  explicit ConfigReader(std::string source) : source_(std::move(source)) {}

  Status Error(std::string reason, const YAML::Node& at, std::string_view field,
               std::string_view message) const;

  using EntryFn = std::function<Status(std::string_view key, const YAML::Node& value,
                                       const std::string& field)>;
  // A mapping whose keys are among `known`, each once, with non-null values; `fn` per entry.
  Status ForEachEntry(const YAML::Node& node, std::string_view field,
                      std::span<const std::string_view> known, const EntryFn& fn) const;
  Status ForEachElement(
      const YAML::Node& node, std::string_view field,
      const std::function<Status(const YAML::Node&, const std::string&)>& fn) const;

  Result<bool> Bool(const YAML::Node& node, std::string_view field) const;
  Result<std::uint64_t> Uint(const YAML::Node& node, std::string_view field, std::uint64_t min,
                             std::uint64_t max) const;
  Result<std::string> String(const YAML::Node& node, std::string_view field) const;
  Result<Bytes> Hex(const YAML::Node& node, std::string_view field, std::size_t size) const;

 private:
  Status WrongType(const YAML::Node& node, std::string_view field, std::string_view want) const;
  std::string source_;
};

}  // namespace lunal::attest::service::internal
