#include "statement.h"

#include <set>
#include <string_view>
#include <utility>

#include "lunal/attest/report_data.h"
#include "lunal/common/time.h"

namespace lunal::build {
namespace internal {

bool IsLowerHex64(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

namespace {

Status Bad(std::string message) {
  return Malformed("provenance.bad_statement", "provenance statement: {}", message);
}

// A string member of `object`, or an error naming `path`.
Result<std::string> Str(const Json& object, std::string_view key, std::string_view path) {
  const auto it = object.find(key);
  if (it == object.end() || !it->is_string()) {
    return Bad(fmt::format("{} must be a string", JsonPath(path, key)));
  }
  return it->get<std::string>();
}

Result<const Json*> Obj(const Json& object, std::string_view key, std::string_view path) {
  const auto it = object.find(key);
  if (it == object.end() || !it->is_object()) {
    return Bad(fmt::format("{} must be an object", JsonPath(path, key)));
  }
  return &*it;
}

}  // namespace

Result<CheckedStatement> CheckStatement(const Json& statement) {
  if (!statement.is_object()) return Bad("the payload is not a JSON object");
  CheckedStatement out;
  // in-toto attestation spec v1, statement.md: _type, subject, predicateType, predicate.
  LUNAL_ASSIGN_OR_RETURN(std::string type, Str(statement, "_type", ""));
  if (type != kStatementType) {
    return Bad(fmt::format("_type is \"{}\", expected \"{}\"", type, kStatementType));
  }
  LUNAL_ASSIGN_OR_RETURN(std::string predicate_type, Str(statement, "predicateType", ""));
  if (predicate_type != kSlsaPredicateType) {
    return Bad(fmt::format("predicateType is \"{}\", expected \"{}\"", predicate_type,
                           kSlsaPredicateType));
  }
  const auto subjects = statement.find("subject");
  if (subjects == statement.end() || !subjects->is_array() || subjects->empty()) {
    return Bad("subject must be a non-empty array");
  }
  std::set<std::string> names;
  for (std::size_t i = 0; i < subjects->size(); ++i) {
    const Json& s = (*subjects)[i];
    const std::string path = JsonPath("subject", i);
    if (!s.is_object()) return Bad(fmt::format("{} must be an object", path));
    LUNAL_ASSIGN_OR_RETURN(std::string name, Str(s, "name", path));
    LUNAL_ASSIGN_OR_RETURN(const Json* digest, Obj(s, "digest", path));
    LUNAL_ASSIGN_OR_RETURN(std::string sha256, Str(*digest, "sha256", JsonPath(path, "digest")));
    if (!IsLowerHex64(sha256)) {
      return Bad(fmt::format("{}.digest.sha256 is not 64 lowercase hex digits", path));
    }
    if (!names.insert(name).second) {
      return Bad(fmt::format("{}: subject \"{}\" appears twice", path, name));
    }
    if (name == kManifestSubjectName) out.build_hash = "sha256:" + sha256;
    out.subjects.push_back({.name = std::move(name), .sha256_hex = std::move(sha256)});
  }
  // SLSA Provenance v1 (slsa.dev/spec/v1.0/provenance): predicate.buildDefinition.buildType and
  // .externalParameters are required, and so is runDetails.builder.id.
  LUNAL_ASSIGN_OR_RETURN(const Json* predicate, Obj(statement, "predicate", ""));
  LUNAL_ASSIGN_OR_RETURN(const Json* definition, Obj(*predicate, "buildDefinition", "predicate"));
  LUNAL_ASSIGN_OR_RETURN(out.build_type,
                         Str(*definition, "buildType", "predicate.buildDefinition"));
  if (out.build_type != kBuildType) {
    return Bad(fmt::format("buildType is \"{}\", expected \"{}\"", out.build_type, kBuildType));
  }
  LUNAL_RETURN_IF_ERROR(
      Obj(*definition, "externalParameters", "predicate.buildDefinition").status());
  LUNAL_ASSIGN_OR_RETURN(const Json* run, Obj(*predicate, "runDetails", "predicate"));
  LUNAL_ASSIGN_OR_RETURN(const Json* builder, Obj(*run, "builder", "predicate.runDetails"));
  LUNAL_ASSIGN_OR_RETURN(out.builder_id, Str(*builder, "id", "predicate.runDetails.builder"));
  return out;
}

}  // namespace internal

namespace {

Status BadInput(std::string message) {
  return InvalidArgument("provenance.bad_input", "provenance input: {}", std::move(message));
}

Result<Json> Descriptors(const std::vector<Json>& items, std::string_view what) {
  Json out = Json::array();
  for (std::size_t i = 0; i < items.size(); ++i) {
    // in-toto resource_descriptor.md: an object with at least one of uri, digest, content.
    const Json& d = items[i];
    if (!d.is_object() || !(d.contains("uri") || d.contains("digest") || d.contains("content"))) {
      return BadInput(
          fmt::format("{}[{}] is not a ResourceDescriptor (an object with uri, "
                      "digest or content)",
                      what, i));
    }
    out.push_back(d);
  }
  return out;
}

}  // namespace

Result<Json> MakeStatement(const ProvenanceInput& input) {
  std::vector<Subject> subjects = input.subjects;
  if (!input.build_hash.empty()) {
    if (!attest::IsSha256Ref(input.build_hash)) {
      return BadInput(
          fmt::format("build hash \"{}\" is not sha256:<64 lowercase hex>", input.build_hash));
    }
    const std::string hex = input.build_hash.substr(7);
    bool found = false;
    for (const Subject& s : subjects) {
      if (s.name != kManifestSubjectName) continue;
      if (s.sha256_hex != hex) {
        return BadInput(fmt::format("subject {} has digest {}, but the build hash is {}",
                                    kManifestSubjectName, s.sha256_hex, input.build_hash));
      }
      found = true;
    }
    if (!found) subjects.push_back({.name = std::string(kManifestSubjectName), .sha256_hex = hex});
  }
  if (subjects.empty()) return BadInput("no subjects");
  Json subject = Json::array();
  std::set<std::string> names;
  for (const Subject& s : subjects) {
    if (s.name.empty()) return BadInput("a subject has an empty name");
    if (!internal::IsLowerHex64(s.sha256_hex)) {
      return BadInput(fmt::format("subject {}: digest \"{}\" is not 64 lowercase hex digits",
                                  s.name, s.sha256_hex));
    }
    if (!names.insert(s.name).second) {
      return BadInput(fmt::format("subject {} appears twice", s.name));
    }
    subject.push_back({{"name", s.name}, {"digest", {{"sha256", s.sha256_hex}}}});
  }
  if (input.builder_id.empty()) return BadInput("empty builder id");
  if (!input.external_parameters.is_object() || !input.internal_parameters.is_object()) {
    return BadInput("externalParameters and internalParameters must be objects");
  }

  Json definition = {{"buildType", kBuildType}, {"externalParameters", input.external_parameters}};
  if (!input.internal_parameters.empty()) {
    definition["internalParameters"] = input.internal_parameters;
  }
  LUNAL_ASSIGN_OR_RETURN(Json deps,
                         Descriptors(input.resolved_dependencies, "resolvedDependencies"));
  if (!deps.empty()) definition["resolvedDependencies"] = std::move(deps);

  Json metadata = Json::object();
  if (!input.invocation_id.empty()) metadata["invocationId"] = input.invocation_id;
  if (input.started != Timestamp{}) metadata["startedOn"] = FormatRfc3339(input.started);
  if (input.finished != Timestamp{}) metadata["finishedOn"] = FormatRfc3339(input.finished);
  Json run = {{"builder", {{"id", input.builder_id}}}};
  if (!metadata.empty()) run["metadata"] = std::move(metadata);
  LUNAL_ASSIGN_OR_RETURN(Json byproducts, Descriptors(input.byproducts, "byproducts"));
  if (!byproducts.empty()) run["byproducts"] = std::move(byproducts);

  return Json{
      {"_type", kStatementType},
      {"subject", std::move(subject)},
      {"predicateType", kSlsaPredicateType},
      {"predicate", {{"buildDefinition", std::move(definition)}, {"runDetails", std::move(run)}}}};
}

}  // namespace lunal::build
