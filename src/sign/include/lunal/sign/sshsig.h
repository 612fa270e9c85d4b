// OpenSSH SSHSIG signatures (PROTOCOL.sshsig in openssh-portable; docs/formats/sshsig.md):
// parsing the armored file `ssh-keygen -Y sign` writes, and verifying it natively.
//
//   -----BEGIN SSH SIGNATURE-----            PROTOCOL.sshsig §2 (armored form, base64)
//   byte[6]  MAGIC_PREAMBLE "SSHSIG"         §3 blob
//   uint32   SIG_VERSION 0x01
//   string   publickey                       RFC 4253 §6.6 key blob (ssh_key.h)
//   string   namespace                       non-empty
//   string   reserved                        must be empty (we refuse anything else)
//   string   hash_algorithm                  "sha256" | "sha512"
//   string   signature                       string sig-type, string sig-blob (RFC 4253 §6.6)
//   -----END SSH SIGNATURE-----
//
// The signature covers (§4): byte[6] "SSHSIG", string namespace, string reserved (empty),
// string hash_algorithm, string H(message).
//
// Signature types per key (anything else: sign.sshsig.signature_type_mismatch):
//   ssh-ed25519          "ssh-ed25519", 64 bytes                          RFC 8709 §6
//   ecdsa-sha2-nistp256  same name, string(mpint r, mpint s), SHA-256     RFC 5656 §3.1.2
//   ecdsa-sha2-nistp384  same name, string(mpint r, mpint s), SHA-384     RFC 5656 §3.1.2
//   ssh-rsa key          "rsa-sha2-256" / "rsa-sha2-512", PKCS#1 v1.5     RFC 8332 §3
//                        ("ssh-rsa", i.e. SHA-1: sign.sshsig.rsa_sha1_refused, kUnsupported)
//
// Errors (stable reasons):
//   kMalformed   sign.sshsig.armor.missing_begin, .missing_end, .bad_base64, .trailing_text;
//                sign.sshsig.magic.mismatch; sign.sshsig.<field>.truncated;
//                sign.sshsig.trailing_bytes; sign.sshsig.namespace.empty;
//                sign.sshsig.signature.trailing_bytes; sign.sshsig.ecdsa_r/_s.* (mpint);
//                sign.sshsig.ecdsa.scalar_too_long; sign.sshsig.rsa.signature_too_long;
//                sign.key.* (the embedded public key)
//   kUnsupported sign.sshsig.version.unsupported; sign.sshsig.reserved.not_empty;
//                sign.sshsig.hash_algorithm.unsupported; sign.sshsig.rsa_sha1_refused;
//                sign.sshsig.signature_type_mismatch; sign.key.unsupported_type
//   kVerificationFailed  sign.sshsig.namespace.mismatch; sign.sshsig.signature.invalid
//
// Functions are pure and thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "lunal/common/bytes.h"
#include "lunal/common/result.h"
#include "lunal/common/status.h"
#include "lunal/sign/ssh_key.h"

namespace lunal::sign {

inline constexpr std::string_view kLunalNamespace = "lunal";

struct SshSignature {
  SshPublicKey public_key;
  std::string namespace_;
  std::string hash_algorithm;  // "sha256" or "sha512"
  std::string signature_type;  // "ssh-ed25519", "ecdsa-sha2-nistp256", "rsa-sha2-512", ...
  Bytes signature_blob;        // the inner sig-blob (for ECDSA: mpint r, mpint s)
};

// The binary blob (PROTOCOL.sshsig §3), checked for structure and supported algorithms.
Result<SshSignature> ParseSshSignatureBlob(ByteSpan blob);
// The armored text (§2): BEGIN line, base64 (any line breaks), END line, optional final newline.
Result<SshSignature> ParseArmoredSshSignature(std::string_view armored);

// The bytes the signature covers (§4) for `message` under `namespace_` and `hash_algorithm`.
Result<Bytes> SshSigSignedData(std::string_view namespace_, std::string_view hash_algorithm,
                               ByteSpan message);

// Checks that the signature is for `expected_namespace` and that it verifies over `message`
// with its embedded public key. Says nothing about whether that key is trusted: see
// allowed_signers.h and verify.h.
Status VerifySshSignature(const SshSignature& signature, ByteSpan message,
                          std::string_view expected_namespace);

}  // namespace lunal::sign
