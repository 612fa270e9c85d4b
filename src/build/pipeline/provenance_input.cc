// The provenance statement's inputs (internal.h): docs/formats/provenance.md "Build type" and
// docs/formats/build-output.md "Provenance content".
#include <fmt/format.h>

#include <cctype>
#include <string>
#include <utility>
#include <vector>

#include "internal.h"
#include "lunal/build/tree_digest.h"
#include "lunal/common/encoding.h"
#include "lunal/crypto/random.h"

namespace lunal::build::internal {

namespace fs = std::filesystem;

namespace {

// A file:// URI for a local path (RFC 8089), percent-encoding what is not unreserved or '/'.
std::string FileUri(std::string_view path) {
  std::string uri = "file://";
  for (char c : path) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '/' || c == '-' || c == '.' || c == '_' || c == '~') {
      uri += c;
    } else {
      uri += fmt::format("%{:02X}", u);
    }
  }
  return uri;
}

Json SourceDescriptor(const Origin& origin) {
  Json source = Json::object();
  source["uri"] = origin.kind == "git" ? origin.uri : FileUri(origin.uri);
  if (auto colon = origin.digest.find(':'); colon != std::string::npos) {
    source["digest"] = {{origin.digest.substr(0, colon), origin.digest.substr(colon + 1)}};
  }
  if (!origin.ref.empty()) source["ref"] = origin.ref;
  return source;
}

}  // namespace

ProvenanceInput MakeProvenanceInput(const BuildResult& r, const std::string& log_hex,
                                    const std::vector<std::pair<std::string, std::string>>& fetched,
                                    Timestamp started, Timestamp finished) {
  ProvenanceInput in;
  const ManifestArtifact& artifact = r.manifest.artifacts.front();
  in.subjects.push_back({.name = artifact.path, .sha256_hex = artifact.digest.substr(7)});
  in.build_hash = r.build_hash;
  in.external_parameters = {{"source", SourceDescriptor(r.origin)}};
  if (!r.config_detected) in.external_parameters["config"] = "lunal.config.yaml";
  in.internal_parameters = {{"recipe", r.run.recipe},
                            {"environment", r.run.environment},
                            {"config", ToJson(r.config)},
                            {"configDetected", r.config_detected}};
  Json source = SourceDescriptor(r.origin);
  source.erase("ref");
  source["name"] = "source";
  source["annotations"] = {{"kind", r.origin.kind}, {"treeDigest", r.manifest.source.tree}};
  in.resolved_dependencies.push_back(std::move(source));
  for (const auto& [path, hex] : fetched) {
    in.resolved_dependencies.push_back({{"name", "deps/" + path}, {"digest", {{"sha256", hex}}}});
  }
  for (const ManifestLockfile& l : r.manifest.lockfiles) {
    in.resolved_dependencies.push_back(
        {{"name", l.path}, {"digest", {{"sha256", l.digest.substr(7)}}}});
  }
  for (const ManifestTool& t : r.manifest.toolchain) {
    in.resolved_dependencies.push_back({{"name", t.name},
                                        {"uri", FileUri(t.path)},
                                        {"digest", {{"sha256", t.digest.substr(7)}}},
                                        {"annotations", {{"version", t.version}}}});
  }
  in.builder_id = std::string(kLocalBuilderId);
  in.invocation_id = HexEncode(crypto::RandomBytes(16));
  in.started = started;
  in.finished = finished;
  in.byproducts.push_back({{"name", std::string(kManifestFile)},
                           {"digest", {{"sha256", r.build_hash.substr(7)}}},
                           {"mediaType", "application/json"}});
  in.byproducts.push_back({{"name", std::string(kLogFile)},
                           {"digest", {{"sha256", log_hex}}},
                           {"mediaType", "text/plain"}});
  return in;
}

Result<std::vector<std::pair<std::string, std::string>>> FetchedFiles(const fs::path& deps) {
  std::vector<std::pair<std::string, std::string>> files;
  LUNAL_ASSIGN_OR_RETURN(SourceTree tree, ScanDirectory(deps));
  if (tree.entries.empty() || tree.entries.size() > kMaxListedDeps) return files;
  LUNAL_ASSIGN_OR_RETURN(TreeDigestResult digest, DigestTree(tree));
  for (std::size_t i = 0; i < tree.entries.size(); ++i) {
    if (tree.entries[i].type != EntryType::kFile) continue;
    files.emplace_back(tree.entries[i].path, digest.entry_digests[i].substr(7));
  }
  return files;
}

}  // namespace lunal::build::internal
