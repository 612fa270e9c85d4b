// Signing a file with the developer's own SSH key through the real `ssh-keygen -Y sign`
// (OpenSSH 8.1 or later), so keys held by ssh-agent, passphrase-protected keys (ssh-keygen asks
// on the terminal) and security keys work exactly as they do for git commit signing.
//
// SignFileWithSshKeygen copies FILE into a fresh private temporary folder and runs
// `ssh-keygen -Y sign -f KEY -n NAMESPACE COPY` there (no shell; argv passed as is; our stdin and
// terminal are inherited for passphrase prompts). It parses the COPY.sig ssh-keygen wrote,
// verifies it natively over FILE's contents (so a signature we hand out is one we accept), and
// only then replaces FILE.sig atomically. (ssh-keygen itself would prompt before overwriting an
// existing FILE.sig and, without a terminal, keep the old one yet exit 0.)
//
// Errors: sign.ssh_keygen.not_found (kUnavailable), sign.ssh_keygen.failed (kUnavailable: a
// non-zero exit, ssh-keygen's stderr in the message), sign.process.timeout (kDeadlineExceeded),
// sign.process.io (kInternal: a pipe, fork or poll failed), sign.input.not_found (kNotFound),
// and anything ParseArmoredSshSignature / VerifySshSignature report about the produced file
// (which would be an ssh-keygen/Lunal mismatch).
// Thread-compatible: concurrent calls for different files are fine.
#pragma once

#include <chrono>
#include <string>

#include "lunal/common/result.h"
#include "lunal/sign/ssh_key.h"
#include "lunal/sign/sshsig.h"

namespace lunal::sign {

struct SignOptions {
  std::string key_path;  // private key, or its .pub with an agent
  std::string namespace_ = std::string(kLunalNamespace);
  std::string ssh_keygen = "ssh-keygen";                        // searched in PATH
  std::chrono::milliseconds timeout{std::chrono::minutes(10)};  // a person may type a passphrase
};

struct SignResult {
  std::string signature_path;  // FILE + ".sig"
  KeyId key_id;
  std::string key_type;
  std::string signature_type;
  std::string hash_algorithm;
};

Result<SignResult> SignFileWithSshKeygen(const std::string& file, const SignOptions& options);

}  // namespace lunal::sign
