#include "lunal/sign/signer.h"

#include <stdlib.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "lunal/common/files.h"
#include "lunal/common/subprocess.h"

namespace lunal::sign {

namespace fs = std::filesystem;

namespace {

// A mkdtemp(3) folder (mode 0700) under $TMPDIR or /tmp, removed with its contents on destruction.
class TempFolder {
 public:
  static Result<TempFolder> Create() {
    std::error_code ec;
    fs::path base = fs::temp_directory_path(ec);
    if (ec) base = "/tmp";
    std::string pattern = (base / "lunal-sign-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) {
      return Unavailable("file.io", "mkdtemp {}: {}", pattern, std::strerror(errno));
    }
    return TempFolder(pattern);
  }
  TempFolder(TempFolder&& other) noexcept : path_(std::move(other.path_)) { other.path_.clear(); }
  TempFolder& operator=(TempFolder&&) = delete;
  TempFolder(const TempFolder&) = delete;
  TempFolder& operator=(const TempFolder&) = delete;
  ~TempFolder() {
    std::error_code ec;
    if (!path_.empty()) fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  explicit TempFolder(fs::path path) : path_(std::move(path)) {}
  fs::path path_;
};

}  // namespace

Result<SignResult> SignFileWithSshKeygen(const std::string& file, const SignOptions& options) {
  constexpr std::size_t kMaxMessage = std::size_t{64} << 20;
  auto message =
      ReadFile(file, {.max_bytes = kMaxMessage, .require_private = false, .no_follow = false});
  if (!message.ok()) {
    if (message.error().code() == Code::kNotFound) {
      return NotFound("sign.input.not_found", "{}: no such file", file);
    }
    return std::move(message).error();
  }
  std::error_code ec;
  if (!fs::exists(options.key_path, ec)) {
    return NotFound("sign.key_file.not_found", "{}: no such key file", options.key_path);
  }
  // ssh-keygen -Y sign asks before replacing an existing FILE.sig (and, without a terminal,
  // silently keeps it while exiting 0). So it signs a copy in a fresh private folder, and FILE.sig
  // is replaced atomically only once the new signature has verified.
  LUNAL_ASSIGN_OR_RETURN(TempFolder work, TempFolder::Create());
  fs::path copy = work.path() / fs::path(file).filename();
  LUNAL_RETURN_IF_ERROR(WriteFileAtomically(copy, *message, 0600));
  // ssh-keygen(1) -Y sign: "-f key_file -n namespace file ..."; writes file.sig.
  // No shell; ssh-keygen is searched on our PATH; our environment (SSH_AUTH_SOCK for agents),
  // stdin and process group (so it stays in the terminal's foreground group and can ask for a
  // passphrase on /dev/tty) are inherited.
  auto run = RunSubprocess({.argv = {options.ssh_keygen, "-Y", "sign", "-f", options.key_path, "-n",
                                     options.namespace_, copy.string()},
                            .search_path = true,
                            .stdin_mode = SubprocessOptions::Stdin::kInherit,
                            .own_process_group = false,
                            .timeout = options.timeout});
  if (!run.ok()) {
    if (run.error().reason() == "subprocess.io") {
      return Internal("sign.process.io", "{}", run.error().message());
    }
    // subprocess.spawn_failed or subprocess.bad_argv (an empty program name).
    return Unavailable("sign.ssh_keygen.not_found", "{} (OpenSSH 8.1 or later is needed)",
                       run.error().message());
  }
  if (run->timed_out) {
    return DeadlineExceeded("sign.process.timeout", "{} did not finish within {} s",
                            options.ssh_keygen, options.timeout.count() / 1000);
  }
  std::string sig_path = file + ".sig";
  if (run->exit_code != 0) {
    std::string err = run->err;
    while (!err.empty() && (err.back() == '\n' || err.back() == '\r')) err.pop_back();
    return Unavailable("sign.ssh_keygen.failed", "ssh-keygen -Y sign exited with {}: {}",
                       run->term_signal != 0 ? -1 : run->exit_code, err);
  }
  LUNAL_ASSIGN_OR_RETURN(std::string armored, ReadFile(copy.string() + ".sig"));
  LUNAL_ASSIGN_OR_RETURN(SshSignature sig, ParseArmoredSshSignature(armored));
  LUNAL_RETURN_IF_ERROR(VerifySshSignature(sig, AsBytes(*message), options.namespace_));
  LUNAL_RETURN_IF_ERROR(WriteFileAtomically(sig_path, armored, 0644));
  return SignResult{.signature_path = sig_path,
                    .key_id = sig.public_key.Id(),
                    .key_type = std::string(SshKeyTypeName(sig.public_key.type())),
                    .signature_type = sig.signature_type,
                    .hash_algorithm = sig.hash_algorithm};
}

}  // namespace lunal::sign
