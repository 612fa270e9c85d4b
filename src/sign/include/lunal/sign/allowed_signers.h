// OpenSSH allowed_signers files (ssh-keygen(1), "ALLOWED SIGNERS") and the trust decision
// `ssh-keygen -Y verify` makes with them.
//
// One entry a line: principals [options] key-type base64-key [comment]. Blank lines and lines
// starting with '#' are ignored. Principals are a comma-separated pattern-list (ssh_config(5)
// PATTERNS: '*', '?', '!' negation), optionally in double quotes. Options (keywords
// case-insensitive, values in double quotes, comma-separated, no spaces outside quotes):
//   namespaces="pattern-list"   the signature's namespace must match
//   valid-after="TIME"          TIME: YYYYMMDD[Z] or YYYYMMDDHHMM[SS][Z]; Z is UTC, otherwise
//   valid-before="TIME"         local time (as ssh-keygen reads it)
//   cert-authority              refused: certificates are not supported (kUnsupported)
// Keys: see ssh_key.h.
//
// Parse errors name "<file>:<line>:<column>" (1-based column of the offending field) in the
// message. Reasons: sign.allowed_signers.principals.missing, .principals.unterminated_quote,
// .options.unknown, .options.missing_quote, .options.duplicate, .options.bad_time,
// .key.missing, .too_large (kMalformed; kResourceExhausted for too_large),
// sign.allowed_signers.cert_authority (kUnsupported), and sign.key.* for a bad key (with the
// location as context).
//
// Authorize() reasons (kVerificationFailed): sign.signer.not_allowed (no entry lists this key
// for the identity), sign.signer.namespace_not_allowed, sign.signer.not_yet_valid,
// sign.signer.expired (an entry lists the key for the identity but its options refuse it).
//
// AllowedSigners is immutable after parsing; share it between threads freely.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lunal/common/result.h"
#include "lunal/common/time.h"
#include "lunal/sign/ssh_key.h"
#include "lunal/sign/sshsig.h"

namespace lunal::sign {

struct AllowedSigner {
  int line = 0;
  std::string principals;                 // the pattern-list, unquoted
  std::optional<std::string> namespaces;  // pattern-list
  std::optional<Timestamp> valid_after;
  std::optional<Timestamp> valid_before;
  SshPublicKey key;
};

// ssh_config(5) PATTERNS over a comma-separated list: true when some positive pattern matches
// and no negated ('!') pattern does. Case-sensitive.
bool MatchPatternList(std::string_view text, std::string_view pattern_list);

class AllowedSigners {
 public:
  // `source_name` (usually the path) prefixes every error location.
  static Result<AllowedSigners> Parse(std::string_view text, std::string_view source_name);
  // Reads at most 1 MiB.
  static Result<AllowedSigners> Load(const std::string& path);

  const std::vector<AllowedSigner>& entries() const { return entries_; }

  // The first entry that lists `key` for `identity` and whose options accept `namespace_` at
  // `as_of`.
  Result<const AllowedSigner*> Authorize(std::string_view identity, const SshPublicKey& key,
                                         std::string_view namespace_, Timestamp as_of) const;

 private:
  std::vector<AllowedSigner> entries_;
};

struct VerifiedSignature {
  KeyId key_id;
  std::string key_type;        // "ssh-ed25519", ...
  std::string signature_type;  // "rsa-sha2-512", ...
  std::string hash_algorithm;  // "sha512", ...
  std::string namespace_;
  std::string identity;
  int allowed_signers_line = 0;
};

// The whole `ssh-keygen -Y verify` decision: the armored signature parses, is for
// `expected_namespace`, verifies over `message`, and its key is listed for `identity` in
// `signers` with options that accept it at `as_of`.
Result<VerifiedSignature> VerifyWithAllowedSigners(
    ByteSpan message, std::string_view armored_signature, const AllowedSigners& signers,
    std::string_view identity, std::string_view expected_namespace, Timestamp as_of);

}  // namespace lunal::sign
