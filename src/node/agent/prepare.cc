// An instance's root, from the artifact (node.h steps 4 and 5), its start command and its
// environment, and the loopback ports.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <system_error>

#include "internal.h"
#include "lunal/build/config.h"
#include "lunal/build/detect.h"
#include "lunal/build/intake.h"
#include "lunal/build/manifest.h"
#include "lunal/common/encoding.h"
#include "lunal/crypto/digest.h"

namespace lunal::node::internal {
namespace fs = std::filesystem;

namespace {

// The artifact the manifest names: app.tar (docs/formats/build-output.md).
constexpr std::string_view kArtifactName = "app.tar";

Status IoError(std::string_view what, const fs::path& path, const std::error_code& ec) {
  return Unavailable("node.launch.io", "{} {}: {}", what, path.string(), ec.message());
}

}  // namespace

Result<std::string> FileSha256(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Unavailable("node.launch.io", "cannot read {}", path.string());
  crypto::Hasher hasher(crypto::DigestAlgorithm::kSha256);
  std::vector<char> buf(std::size_t{1} << 16);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    const std::streamsize got = in.gcount();
    if (got > 0) {
      hasher.Update(ByteSpan(reinterpret_cast<const std::uint8_t*>(buf.data()),
                             static_cast<std::size_t>(got)));
    }
  }
  if (in.bad()) return Unavailable("node.launch.io", "error reading {}", path.string());
  return "sha256:" + HexEncode(hasher.Finish());
}

Status PrepareRoot(std::string_view manifest_json, const fs::path& artifact,
                   const fs::path& instance_dir) {
  auto manifest = build::ParseManifest(manifest_json);
  if (!manifest.ok()) {
    return Malformed("node.launch.bad_manifest", "the build manifest: {}",
                     manifest.error().ToString());
  }
  const build::ManifestArtifact* entry = nullptr;
  for (const auto& a : manifest->artifacts) {
    if (a.path == kArtifactName) entry = &a;
  }
  if (entry == nullptr) {
    return Malformed("node.launch.bad_manifest", "the build manifest lists no {}", kArtifactName);
  }

  // The copy is what is checked and what is extracted: the caller's file may change after the
  // check (time of check, time of use), the node's private copy may not.
  const fs::path copy = instance_dir / kArtifactName;
  std::error_code ec;
  if (!fs::is_regular_file(artifact, ec)) {
    return Unavailable("node.launch.io", "the artifact {} is not a readable file",
                       artifact.string());
  }
  fs::copy_file(artifact, copy, fs::copy_options::overwrite_existing, ec);
  if (ec) return IoError("copying", artifact, ec);
  LUNAL_ASSIGN_OR_RETURN(std::string digest, FileSha256(copy));
  const std::uintmax_t size = fs::file_size(copy, ec);
  if (digest != entry->digest || ec || size != entry->size) {
    // Only the expected values are named: the path comes from the requester, and the digest of
    // an arbitrary file of the node is not theirs to learn.
    return VerificationFailed("node.launch.artifact_mismatch",
                              "{} is not the build's app.tar (the manifest names {}, {} bytes)",
                              artifact.string(), entry->digest, entry->size);
  }

  // Intake's archive extraction refuses path traversal, absolute names, links leaving the tree
  // and special files (docs/formats/intake.md); nothing is ignored: the artifact is taken whole.
  auto extracted = build::IntakeArchive(copy, instance_dir, {.apply_ignore_files = false});
  if (!extracted.ok()) {
    return InvalidArgument("node.launch.bad_artifact", "extracting {}: {}", kArtifactName,
                           extracted.error().ToString());
  }
  const fs::path root = instance_dir / "root";
  fs::rename(instance_dir / "source", root, ec);
  if (ec) return IoError("renaming", instance_dir / "source", ec);
  fs::remove(copy, ec);
  if (!fs::is_directory(root / "app", ec) || fs::is_symlink(root / "app", ec)) {
    return InvalidArgument("node.launch.bad_artifact", "{} has no app/ folder", kArtifactName);
  }
  if (fs::exists(root / "deps", ec) && !fs::is_directory(fs::symlink_status(root / "deps", ec))) {
    return InvalidArgument("node.launch.bad_artifact", "{}: deps is not a folder", kArtifactName);
  }
  SetTreeWritable(root, false);
  return Status::Ok();
}

Result<StartCommand> ResolveStartCommand(const fs::path& root) {
  const fs::path app = root / "app";
  const fs::path config_file = app / "lunal.config.yaml";
  std::error_code ec;
  build::Config config;
  if (fs::exists(fs::symlink_status(config_file, ec))) {
    if (!fs::is_regular_file(fs::symlink_status(config_file, ec))) {
      return InvalidArgument("node.launch.bad_config", "lunal.config.yaml is not a regular file");
    }
    build::ConfigParse parse = build::LoadConfigFile(config_file);
    if (!parse.ok()) {
      const auto& first = parse.errors.front();
      return InvalidArgument("node.launch.bad_config", "{} [{}]", first.ToString(), first.reason);
    }
    config = std::move(parse.config);
  } else {
    auto detected = build::DetectProject(app);
    if (!detected.ok()) {
      return InvalidArgument("node.launch.bad_config", "no lunal.config.yaml, and {}",
                             detected.error().ToString());
    }
    config = std::move(detected->config);
  }
  if (!config.runtime) {
    return Unsupported("node.launch.no_command", "container mode is not supported by this node");
  }
  const build::Runtime& rt = *config.runtime;
  StartCommand out{.argv = {}, .language = rt.language};
  if (!rt.command.empty()) {
    out.argv = rt.command;
  } else if (rt.language == "python" && !rt.entrypoint.empty()) {
    out.argv = {"python3", rt.entrypoint};
  } else if (rt.language == "node" && !rt.entrypoint.empty()) {
    out.argv = {"node", rt.entrypoint};
  } else if (rt.language == "go") {
    out.argv = {"./app"};  // the go recipe's output, /out/app/app (docs/formats/hermetic-build.md)
  } else {
    return Unsupported("node.launch.no_command",
                       "no start command for runtime {:?} (entrypoint {:?}): give "
                       "runtime.entrypoint or runtime.command",
                       rt.language, rt.entrypoint);
  }
  return out;
}

std::map<std::string, std::string> AppEnvironment(const StartCommand& command, const fs::path& root,
                                                  std::uint16_t app_port,
                                                  const std::map<std::string, std::string>& extra) {
  std::map<std::string, std::string> env = extra;
  // The node's own values win over the request's.
  env["PORT"] = std::to_string(app_port);
  env["HOME"] = "/tmp";
  env["PATH"] = "/usr/bin:/bin";
  env["LANG"] = "C.UTF-8";
  std::error_code ec;
  if (command.language == "python" && fs::is_directory(root / "deps", ec)) {
    env["PYTHONPATH"] = "/deps";
  }
  return env;
}

Result<std::uint16_t> FreeLoopbackPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Unavailable("node.launch.no_port", "socket: {}", std::strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
                  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
  const int saved = errno;
  ::close(fd);
  if (!ok) return Unavailable("node.launch.no_port", "bind 127.0.0.1:0: {}", std::strerror(saved));
  return ntohs(addr.sin_port);
}

Result<ListeningSocket> ListenOnLoopback() {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return Unavailable("node.launch.no_port", "socket: {}", std::strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(fd.get(), 128) != 0 ||
      ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    return Unavailable("node.launch.no_port", "listen on 127.0.0.1:0: {}", std::strerror(errno));
  }
  return ListeningSocket{.fd = std::move(fd), .port = ntohs(addr.sin_port)};
}

void SetTreeWritable(const fs::path& dir, bool writable) {
  std::error_code ec;
  auto apply = [&](const fs::path& p) {
    const fs::file_status st = fs::symlink_status(p, ec);
    if (ec || fs::is_symlink(st)) return;
    if (writable) {
      fs::permissions(p, fs::perms::owner_write, fs::perm_options::add, ec);
    } else {
      fs::permissions(p, fs::perms::owner_write | fs::perms::group_write | fs::perms::others_write,
                      fs::perm_options::remove, ec);
    }
  };
  // Folders are made writable before their contents are visited, read-only after.
  if (writable) apply(dir);
  for (auto it = fs::recursive_directory_iterator(dir, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    apply(it->path());
  }
  if (!writable) apply(dir);
}

void RemoveTree(const fs::path& dir) {
  std::error_code ec;
  if (!fs::exists(fs::symlink_status(dir, ec))) return;
  SetTreeWritable(dir, true);
  fs::remove_all(dir, ec);
}

}  // namespace lunal::node::internal
