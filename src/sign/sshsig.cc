#include "lunal/sign/sshsig.h"

#include <string>

#include "lunal/common/byte_reader.h"
#include "lunal/common/encoding.h"
#include "lunal/crypto/digest.h"
#include "lunal/crypto/signature.h"
#include "ssh_wire.h"

namespace lunal::sign {
namespace {

using internal::AppendString;
using internal::ReadPositiveMpint;
using internal::ReadString;

constexpr std::string_view kMagic = "SSHSIG";  // PROTOCOL.sshsig §3 MAGIC_PREAMBLE
constexpr std::uint32_t kVersion = 1;          // §3 SIG_VERSION
constexpr std::string_view kBegin = "-----BEGIN SSH SIGNATURE-----";
constexpr std::string_view kEnd = "-----END SSH SIGNATURE-----";

Result<crypto::DigestAlgorithm> HashAlgorithm(std::string_view name) {
  // §3: "The supported hash algorithms are "sha256" and "sha512"."
  if (name == "sha256") return crypto::DigestAlgorithm::kSha256;
  if (name == "sha512") return crypto::DigestAlgorithm::kSha512;
  return Unsupported("sign.sshsig.hash_algorithm.unsupported",
                     "hash algorithm \"{}\" is not sha256 or sha512", name);
}

// Which signature types a key type may carry, and the digest each implies.
Result<crypto::DigestAlgorithm> SignatureDigest(SshKeyType key_type, std::string_view sig_type) {
  switch (key_type) {
    case SshKeyType::kEd25519:
      if (sig_type == "ssh-ed25519") return crypto::DigestAlgorithm::kSha512;  // unused
      break;
    case SshKeyType::kEcdsaP256:
      // RFC 5656 §6.2.1: nistp256 uses SHA-256, nistp384 SHA-384.
      if (sig_type == "ecdsa-sha2-nistp256") return crypto::DigestAlgorithm::kSha256;
      break;
    case SshKeyType::kEcdsaP384:
      if (sig_type == "ecdsa-sha2-nistp384") return crypto::DigestAlgorithm::kSha384;
      break;
    case SshKeyType::kRsa:
      // RFC 8332 §3; SHA-1 "ssh-rsa" signatures are refused, as OpenSSH's sshsig.c does.
      if (sig_type == "rsa-sha2-256") return crypto::DigestAlgorithm::kSha256;
      if (sig_type == "rsa-sha2-512") return crypto::DigestAlgorithm::kSha512;
      if (sig_type == "ssh-rsa") {
        return Unsupported("sign.sshsig.rsa_sha1_refused",
                           "RSA signature type \"ssh-rsa\" (SHA-1) is refused; sign with "
                           "rsa-sha2-256 or rsa-sha2-512");
      }
      break;
  }
  return Unsupported("sign.sshsig.signature_type_mismatch",
                     "signature type \"{}\" does not belong to a {} key", sig_type,
                     SshKeyTypeName(key_type));
}

// RFC 5656 §3.1.2: the ECDSA sig-blob is mpint r, mpint s; we need r ‖ s at fixed width.
Result<Bytes> EcdsaRawSignature(ByteSpan sig_blob, crypto::Curve curve) {
  ByteReader r(sig_blob);
  LUNAL_ASSIGN_OR_RETURN(ByteSpan rr, ReadPositiveMpint(r, "sign.sshsig.ecdsa_r"));
  LUNAL_ASSIGN_OR_RETURN(ByteSpan ss, ReadPositiveMpint(r, "sign.sshsig.ecdsa_s"));
  LUNAL_RETURN_IF_ERROR(r.ExpectEnd("sign.sshsig.ecdsa"));
  std::size_t width = crypto::CoordinateSize(curve);
  if (rr.size() > width || ss.size() > width) {
    return Malformed("sign.sshsig.ecdsa.scalar_too_long", "ECDSA r or s longer than {} bytes",
                     width);
  }
  Bytes raw(2 * width, 0);
  std::copy(rr.begin(), rr.end(), raw.begin() + static_cast<std::ptrdiff_t>(width - rr.size()));
  std::copy(ss.begin(), ss.end(), raw.end() - static_cast<std::ptrdiff_t>(ss.size()));
  return raw;
}

}  // namespace

Result<SshSignature> ParseSshSignatureBlob(ByteSpan blob) {
  ByteReader r(blob);
  LUNAL_ASSIGN_OR_RETURN(ByteSpan magic, r.Bytes(kMagic.size(), "sign.sshsig.magic"));
  if (AsStringView(magic) != kMagic) {
    return Malformed("sign.sshsig.magic.mismatch", "the blob does not start with \"SSHSIG\"");
  }
  LUNAL_ASSIGN_OR_RETURN(std::uint32_t version, r.U32Be("sign.sshsig.version"));
  if (version != kVersion) {
    return Unsupported("sign.sshsig.version.unsupported", "SSHSIG version {}, expected 1", version);
  }
  LUNAL_ASSIGN_OR_RETURN(ByteSpan key_blob, ReadString(r, "sign.sshsig.publickey"));
  LUNAL_ASSIGN_OR_RETURN(ByteSpan ns, ReadString(r, "sign.sshsig.namespace"));
  LUNAL_ASSIGN_OR_RETURN(ByteSpan reserved, ReadString(r, "sign.sshsig.reserved"));
  LUNAL_ASSIGN_OR_RETURN(ByteSpan hash, ReadString(r, "sign.sshsig.hash_algorithm"));
  LUNAL_ASSIGN_OR_RETURN(ByteSpan sig, ReadString(r, "sign.sshsig.signature"));
  LUNAL_RETURN_IF_ERROR(r.ExpectEnd("sign.sshsig"));

  if (ns.empty()) {
    return Malformed("sign.sshsig.namespace.empty", "the signature's namespace is empty");
  }
  if (!reserved.empty()) {
    // §3 lets verifiers ignore it; we refuse what no signer produces today rather than guess
    // whether it belongs in the signed data.
    return Unsupported("sign.sshsig.reserved.not_empty", "reserved field holds {} bytes",
                       reserved.size());
  }
  LUNAL_RETURN_IF_ERROR(HashAlgorithm(AsStringView(hash)).status());
  LUNAL_ASSIGN_OR_RETURN(SshPublicKey key, SshPublicKey::FromBlob(key_blob));

  ByteReader sr(sig, r.offset() - sig.size());
  LUNAL_ASSIGN_OR_RETURN(ByteSpan sig_type, ReadString(sr, "sign.sshsig.signature.type"));
  LUNAL_ASSIGN_OR_RETURN(ByteSpan sig_blob, ReadString(sr, "sign.sshsig.signature.blob"));
  LUNAL_RETURN_IF_ERROR(sr.ExpectEnd("sign.sshsig.signature"));
  LUNAL_RETURN_IF_ERROR(SignatureDigest(key.type(), AsStringView(sig_type)).status());

  return SshSignature{.public_key = std::move(key),
                      .namespace_ = ToString(ns),
                      .hash_algorithm = ToString(hash),
                      .signature_type = ToString(sig_type),
                      .signature_blob = Bytes(sig_blob.begin(), sig_blob.end())};
}

Result<SshSignature> ParseArmoredSshSignature(std::string_view text) {
  std::size_t start = text.find_first_not_of(" \t\r\n");
  if (start == std::string_view::npos || text.substr(start, kBegin.size()) != kBegin) {
    return Malformed("sign.sshsig.armor.missing_begin", "the signature does not start with \"{}\"",
                     kBegin);
  }
  if (start != 0) {
    return Malformed("sign.sshsig.armor.trailing_text", "text before \"{}\"", kBegin);
  }
  std::string_view body = text.substr(kBegin.size());
  std::size_t end = body.find(kEnd);
  if (end == std::string_view::npos) {
    return Malformed("sign.sshsig.armor.missing_end", "no \"{}\" line", kEnd);
  }
  std::string_view after = body.substr(end + kEnd.size());
  if (after.find_first_not_of("\r\n") != std::string_view::npos) {
    return Malformed("sign.sshsig.armor.trailing_text", "text after \"{}\"", kEnd);
  }
  auto blob = Base64Decode(body.substr(0, end), {.alphabet = Base64Alphabet::kStandard,
                                                 .padding = Base64DecodeOptions::Padding::kRequired,
                                                 .ignore_whitespace = true});
  if (!blob.ok()) {
    return Malformed("sign.sshsig.armor.bad_base64", "signature body: {}", blob.error().message());
  }
  return ParseSshSignatureBlob(*blob);
}

Result<Bytes> SshSigSignedData(std::string_view namespace_, std::string_view hash_algorithm,
                               ByteSpan message) {
  LUNAL_ASSIGN_OR_RETURN(crypto::DigestAlgorithm digest, HashAlgorithm(hash_algorithm));
  Bytes out(kMagic.begin(), kMagic.end());             // §4: byte[6] MAGIC_PREAMBLE
  AppendString(out, namespace_);                       // string namespace
  AppendString(out, std::string_view());               // string reserved
  AppendString(out, hash_algorithm);                   // string hash_algorithm
  AppendString(out, crypto::Digest(digest, message));  // string H(message)
  return out;
}

Status VerifySshSignature(const SshSignature& sig, ByteSpan message,
                          std::string_view expected_namespace) {
  // OpenSSH checks the namespace before the signature; so do we, for a clearer reason.
  if (sig.namespace_ != expected_namespace) {
    return VerificationFailed("sign.sshsig.namespace.mismatch",
                              "signature namespace \"{}\", expected \"{}\"", sig.namespace_,
                              expected_namespace);
  }
  LUNAL_ASSIGN_OR_RETURN(Bytes signed_data,
                         SshSigSignedData(sig.namespace_, sig.hash_algorithm, message));
  const SshPublicKey& key = sig.public_key;
  LUNAL_ASSIGN_OR_RETURN(crypto::DigestAlgorithm digest,
                         SignatureDigest(key.type(), sig.signature_type));
  Status status;
  switch (key.type()) {
    case SshKeyType::kEd25519:
      status = crypto::VerifyEd25519(key.key(), signed_data, sig.signature_blob);
      break;
    case SshKeyType::kEcdsaP256:
    case SshKeyType::kEcdsaP384: {
      crypto::Curve curve =
          key.type() == SshKeyType::kEcdsaP256 ? crypto::Curve::kP256 : crypto::Curve::kP384;
      LUNAL_ASSIGN_OR_RETURN(Bytes raw, EcdsaRawSignature(sig.signature_blob, curve));
      status = crypto::VerifyEcdsaRaw(key.key(), digest, signed_data, raw);
      break;
    }
    case SshKeyType::kRsa: {
      // RFC 8332 §3 / RFC 4253 §6.6: S may arrive shorter than the modulus (leading zeros
      // dropped); OpenSSH left-pads it, so do we. Longer is malformed.
      std::size_t modulus_bytes = static_cast<std::size_t>((key.key().Bits() + 7) / 8);
      if (sig.signature_blob.size() > modulus_bytes) {
        return Malformed("sign.sshsig.rsa.signature_too_long",
                         "RSA signature of {} bytes for a {}-byte modulus",
                         sig.signature_blob.size(), modulus_bytes);
      }
      Bytes padded(modulus_bytes - sig.signature_blob.size(), 0);
      padded.insert(padded.end(), sig.signature_blob.begin(), sig.signature_blob.end());
      status = crypto::VerifyRsaPkcs1(key.key(), digest, signed_data, padded);
      break;
    }
  }
  if (status.ok()) return status;
  if (status.code() == Code::kVerificationFailed || status.code() == Code::kMalformed) {
    return VerificationFailed("sign.sshsig.signature.invalid",
                              "the {} signature does not verify with the embedded key ({})",
                              sig.signature_type, status.reason());
  }
  return status;
}

}  // namespace lunal::sign
