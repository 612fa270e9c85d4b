// The build manifest and the build hash (DESIGN.md "Binding formats"): what went into a build
// and what came out, as canonical JSON, and "sha256:" + hex(SHA-256(that JSON)). Format, field
// by field: docs/formats/build-manifest.md.
//
//   {"artifacts":[{"digest":"sha256:..","path":"app.tar","size":123}],
//    "environment":{"LC_ALL":"C",..},
//    "lockfiles":[{"digest":"sha256:..","path":"requirements.txt"}],
//    "source":{"bytes":456,"files":7,"tree":"sha256:.."},
//    "toolchain":[{"digest":"sha256:..","name":"python3","path":"/usr/bin/python3.11",
//                  "version":"3.11.2"}],
//    "version":1}
//
// Every member is required, no other member is allowed, lists are strictly sorted (no
// duplicates), digests are "sha256:" + 64 lowercase hex, paths (lockfiles, artifacts) are
// relative '/'-separated paths without "."/".." or empty components. The same rules hold for
// CanonicalManifest / BuildHash, so no hash is ever computed over a manifest Parse would refuse.
//
// Errors (kMalformed unless noted; messages name the JSON path):
//   build.manifest.syntax               not JSON (or duplicate keys, too deep)
//   build.manifest.wrong_type           a member of the wrong JSON type, a negative number
//   build.manifest.missing_field        a required member is absent
//   build.manifest.unknown_field        a member this version does not define
//   build.manifest.unsupported_version  (kUnsupported) "version" is not 1
//   build.manifest.bad_digest           not "sha256:" + 64 lowercase hex
//   build.manifest.bad_path             an invalid lockfile or artifact path
//   build.manifest.bad_value            an empty tool name or environment name, invalid UTF-8
//   build.manifest.unsorted             a list out of order or with a duplicate
//
// Plain data and pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "lunal/common/json.h"
#include "lunal/common/result.h"

namespace lunal::build {

inline constexpr std::int64_t kManifestVersion = 1;

struct ManifestSource {
  std::string tree = {};  // the tree digest (tree_digest.h) of the source as built
  std::uint64_t files = 0;
  std::uint64_t bytes = 0;

  friend bool operator==(const ManifestSource&, const ManifestSource&) = default;
};

struct ManifestLockfile {
  std::string path = {};    // relative to the source root
  std::string digest = {};  // sha256 of its content

  friend bool operator==(const ManifestLockfile&, const ManifestLockfile&) = default;
};

struct ManifestTool {
  std::string name = {}, version = {}, path = {}, digest = {};  // digest: of the binary

  friend bool operator==(const ManifestTool&, const ManifestTool&) = default;
};

struct ManifestArtifact {
  std::string path = {};  // relative to the output folder
  std::string digest = {};
  std::uint64_t size = 0;

  friend bool operator==(const ManifestArtifact&, const ManifestArtifact&) = default;
};

struct BuildManifest {
  ManifestSource source = {};
  std::vector<ManifestLockfile> lockfiles = {};  // sorted by path
  std::vector<ManifestTool> toolchain = {};      // sorted by name
  // The build phase's fixed environment and recipe facts.
  std::map<std::string, std::string> environment = {};
  std::vector<ManifestArtifact> artifacts = {};  // sorted by path

  friend bool operator==(const BuildManifest&, const BuildManifest&) = default;
};

// The JSON form, with "version": 1. Does not check the manifest (CanonicalManifest does).
Json ManifestToJson(const BuildManifest& manifest);

// Strict parse of the JSON form (whitespace and key order are free; see the rules above).
Result<BuildManifest> ParseManifest(std::string_view json);

// The manifest's rules, as ParseManifest applies them to a parsed document.
Status ValidateManifest(const BuildManifest& manifest);

// CanonicalJson(ManifestToJson(m)) after ValidateManifest(m).
Result<std::string> CanonicalManifest(const BuildManifest& manifest);

// "sha256:" + lowercase hex of SHA-256(CanonicalManifest(m)).
Result<std::string> BuildHash(const BuildManifest& manifest);

// True for "sha256:" + 64 lowercase hex digits.
bool IsSha256Digest(std::string_view digest);

}  // namespace lunal::build
