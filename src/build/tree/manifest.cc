// The build manifest (docs/formats/build-manifest.md) and the build hash (DESIGN.md "Binding
// formats").
#include "lunal/build/manifest.h"

#include <initializer_list>

#include "lunal/common/encoding.h"
#include "lunal/crypto/digest.h"
#include "paths.h"

namespace lunal::build {

namespace {

Status WrongType(const std::string& path, std::string_view expected, const Json& value) {
  return Malformed("build.manifest.wrong_type", "{}: expected {}, got {}", path, expected,
                   JsonTypeName(value));
}

std::string At(std::string_view path, std::string_view key) { return JsonPath(path, key); }

// `object` must be an object with exactly `keys`.
Status CheckObject(const Json& object, const std::string& path,
                   std::initializer_list<std::string_view> keys) {
  if (!object.is_object()) return WrongType(path.empty() ? "manifest" : path, "object", object);
  for (const auto& [key, value] : object.items()) {
    bool known = false;
    for (std::string_view k : keys) known = known || k == key;
    if (!known) {
      return Malformed("build.manifest.unknown_field", "{}: unknown member", At(path, key));
    }
  }
  for (std::string_view k : keys) {
    if (!object.contains(k)) {
      return Malformed("build.manifest.missing_field", "{}: required", At(path, k));
    }
  }
  return Status::Ok();
}

Result<std::string> String(const Json& object, std::string_view key, const std::string& path) {
  const Json& v = object.at(std::string(key));
  if (!v.is_string()) return WrongType(At(path, key), "string", v);
  return v.get<std::string>();
}

Result<std::uint64_t> Uint(const Json& object, std::string_view key, const std::string& path) {
  const Json& v = object.at(std::string(key));
  if (!v.is_number_unsigned()) return WrongType(At(path, key), "non-negative integer", v);
  return v.get<std::uint64_t>();
}

Result<const Json*> Array(const Json& object, std::string_view key, const std::string& path) {
  const Json& v = object.at(std::string(key));
  if (!v.is_array()) return WrongType(At(path, key), "array", v);
  return &v;
}

Status CheckDigest(std::string_view digest, const std::string& path) {
  if (!IsSha256Digest(digest)) {
    return Malformed("build.manifest.bad_digest",
                     "{}: \"{}\" is not \"sha256:\" and 64 lowercase hex digits", path, digest);
  }
  return Status::Ok();
}

Status CheckPath(std::string_view value, const std::string& path) {
  if (const std::string_view problem = internal::PathProblem(value); !problem.empty()) {
    return Malformed("build.manifest.bad_path", "{}: \"{}\": {}", path, value, problem);
  }
  return Status::Ok();
}

template <typename T, typename Key>
Status CheckSorted(const std::vector<T>& items, Key key, std::string_view list,
                   std::string_view by) {
  for (std::size_t i = 1; i < items.size(); ++i) {
    if (!(key(items[i - 1]) < key(items[i]))) {
      return Malformed("build.manifest.unsorted",
                       "{}[{}]: \"{}\" must sort after \"{}\" (strictly ascending by {})", list, i,
                       key(items[i]), key(items[i - 1]), by);
    }
  }
  return Status::Ok();
}

}  // namespace

bool IsSha256Digest(std::string_view digest) {
  constexpr std::string_view kPrefix = "sha256:";
  if (digest.size() != kPrefix.size() + 64 || digest.substr(0, kPrefix.size()) != kPrefix) {
    return false;
  }
  for (char c : digest.substr(kPrefix.size())) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

Json ManifestToJson(const BuildManifest& m) {
  Json lockfiles = Json::array();
  for (const ManifestLockfile& l : m.lockfiles) {
    lockfiles.push_back({{"path", l.path}, {"digest", l.digest}});
  }
  Json toolchain = Json::array();
  for (const ManifestTool& t : m.toolchain) {
    toolchain.push_back(
        {{"name", t.name}, {"version", t.version}, {"path", t.path}, {"digest", t.digest}});
  }
  Json artifacts = Json::array();
  for (const ManifestArtifact& a : m.artifacts) {
    artifacts.push_back({{"path", a.path}, {"digest", a.digest}, {"size", a.size}});
  }
  Json environment = Json::object();
  for (const auto& [name, value] : m.environment) environment[name] = value;
  return Json{
      {"version", kManifestVersion},
      {"source", {{"tree", m.source.tree}, {"files", m.source.files}, {"bytes", m.source.bytes}}},
      {"lockfiles", std::move(lockfiles)},
      {"toolchain", std::move(toolchain)},
      {"environment", std::move(environment)},
      {"artifacts", std::move(artifacts)}};
}

Status ValidateManifest(const BuildManifest& m) {
  LUNAL_RETURN_IF_ERROR(CheckDigest(m.source.tree, "source.tree"));
  for (std::size_t i = 0; i < m.lockfiles.size(); ++i) {
    const std::string path = JsonPath("lockfiles", i);
    LUNAL_RETURN_IF_ERROR(CheckPath(m.lockfiles[i].path, path + ".path"));
    LUNAL_RETURN_IF_ERROR(CheckDigest(m.lockfiles[i].digest, path + ".digest"));
  }
  LUNAL_RETURN_IF_ERROR(CheckSorted(
      m.lockfiles, [](const ManifestLockfile& l) -> const std::string& { return l.path; },
      "lockfiles", "path"));
  for (std::size_t i = 0; i < m.toolchain.size(); ++i) {
    const std::string path = JsonPath("toolchain", i);
    if (m.toolchain[i].name.empty()) {
      return Malformed("build.manifest.bad_value", "{}.name: empty", path);
    }
    LUNAL_RETURN_IF_ERROR(CheckDigest(m.toolchain[i].digest, path + ".digest"));
  }
  LUNAL_RETURN_IF_ERROR(CheckSorted(
      m.toolchain, [](const ManifestTool& t) -> const std::string& { return t.name; }, "toolchain",
      "name"));
  for (const auto& [name, value] : m.environment) {
    if (name.empty()) return Malformed("build.manifest.bad_value", "environment: an empty name");
  }
  for (std::size_t i = 0; i < m.artifacts.size(); ++i) {
    const std::string path = JsonPath("artifacts", i);
    LUNAL_RETURN_IF_ERROR(CheckPath(m.artifacts[i].path, path + ".path"));
    LUNAL_RETURN_IF_ERROR(CheckDigest(m.artifacts[i].digest, path + ".digest"));
  }
  return CheckSorted(
      m.artifacts, [](const ManifestArtifact& a) -> const std::string& { return a.path; },
      "artifacts", "path");
}

Result<BuildManifest> ParseManifest(std::string_view json) {
  Result<Json> parsed = ParseJson(json);
  if (!parsed) {
    return Malformed("build.manifest.syntax", "build manifest: {}", parsed.error().message());
  }
  const Json& doc = *parsed;
  LUNAL_RETURN_IF_ERROR(CheckObject(
      doc, "", {"version", "source", "lockfiles", "toolchain", "environment", "artifacts"}));
  const Json& version = doc.at("version");
  if (!version.is_number_integer()) return WrongType("version", "integer", version);
  if (!version.is_number_unsigned() || version.get<std::uint64_t>() != kManifestVersion) {
    return Unsupported("build.manifest.unsupported_version",
                       "version: {} (this build of Lunal reads version {})", version.dump(),
                       kManifestVersion);
  }

  BuildManifest m;
  const Json& source = doc.at("source");
  LUNAL_RETURN_IF_ERROR(CheckObject(source, "source", {"tree", "files", "bytes"}));
  LUNAL_ASSIGN_OR_RETURN(m.source.tree, String(source, "tree", "source"));
  LUNAL_ASSIGN_OR_RETURN(m.source.files, Uint(source, "files", "source"));
  LUNAL_ASSIGN_OR_RETURN(m.source.bytes, Uint(source, "bytes", "source"));

  LUNAL_ASSIGN_OR_RETURN(const Json* lockfiles, Array(doc, "lockfiles", ""));
  for (std::size_t i = 0; i < lockfiles->size(); ++i) {
    const std::string path = JsonPath("lockfiles", i);
    const Json& item = (*lockfiles)[i];
    LUNAL_RETURN_IF_ERROR(CheckObject(item, path, {"path", "digest"}));
    ManifestLockfile& l = m.lockfiles.emplace_back();
    LUNAL_ASSIGN_OR_RETURN(l.path, String(item, "path", path));
    LUNAL_ASSIGN_OR_RETURN(l.digest, String(item, "digest", path));
  }

  LUNAL_ASSIGN_OR_RETURN(const Json* toolchain, Array(doc, "toolchain", ""));
  for (std::size_t i = 0; i < toolchain->size(); ++i) {
    const std::string path = JsonPath("toolchain", i);
    const Json& item = (*toolchain)[i];
    LUNAL_RETURN_IF_ERROR(CheckObject(item, path, {"name", "version", "path", "digest"}));
    ManifestTool& t = m.toolchain.emplace_back();
    LUNAL_ASSIGN_OR_RETURN(t.name, String(item, "name", path));
    LUNAL_ASSIGN_OR_RETURN(t.version, String(item, "version", path));
    LUNAL_ASSIGN_OR_RETURN(t.path, String(item, "path", path));
    LUNAL_ASSIGN_OR_RETURN(t.digest, String(item, "digest", path));
  }

  const Json& environment = doc.at("environment");
  if (!environment.is_object()) return WrongType("environment", "object", environment);
  for (const auto& [name, value] : environment.items()) {
    if (!value.is_string()) return WrongType(At("environment", name), "string", value);
    m.environment.emplace(name, value.get<std::string>());
  }

  LUNAL_ASSIGN_OR_RETURN(const Json* artifacts, Array(doc, "artifacts", ""));
  for (std::size_t i = 0; i < artifacts->size(); ++i) {
    const std::string path = JsonPath("artifacts", i);
    const Json& item = (*artifacts)[i];
    LUNAL_RETURN_IF_ERROR(CheckObject(item, path, {"path", "digest", "size"}));
    ManifestArtifact& a = m.artifacts.emplace_back();
    LUNAL_ASSIGN_OR_RETURN(a.path, String(item, "path", path));
    LUNAL_ASSIGN_OR_RETURN(a.digest, String(item, "digest", path));
    LUNAL_ASSIGN_OR_RETURN(a.size, Uint(item, "size", path));
  }

  LUNAL_RETURN_IF_ERROR(ValidateManifest(m));
  return m;
}

Result<std::string> CanonicalManifest(const BuildManifest& manifest) {
  LUNAL_RETURN_IF_ERROR(ValidateManifest(manifest));
  Result<std::string> canonical = CanonicalJson(ManifestToJson(manifest));
  if (!canonical) {
    return Malformed("build.manifest.bad_value", "build manifest: {}", canonical.error().message());
  }
  return canonical;
}

Result<std::string> BuildHash(const BuildManifest& manifest) {
  LUNAL_ASSIGN_OR_RETURN(const std::string canonical, CanonicalManifest(manifest));
  return "sha256:" + HexEncode(crypto::Sha256(AsBytes(canonical)));
}

}  // namespace lunal::build
