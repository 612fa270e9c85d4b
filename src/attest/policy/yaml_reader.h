// The policy parser reads YAML with the shared strict reader (src/common/yaml, lunal::yaml),
// under the reason prefix "policy": every error names "<source>:<line>:<column>: <field>: ..."
// and has a stable policy.* reason. yaml-cpp is used only behind this header (and
// policy_parse.cc), never in the public interface.
#pragma once

#include <string_view>

#include "lunal/yaml/reader.h"

namespace lunal::attest::policy::internal {

using yaml::ClosestName;
using yaml::EditDistance;
using yaml::FieldPath;

class YamlReader : public yaml::Reader {
 public:
  explicit YamlReader(std::string_view source) : Reader(source, "policy") {}
};

}  // namespace lunal::attest::policy::internal
