#include "lunal/sign/ssh_key.h"

#include <fmt/format.h>

#include <utility>

#include "lunal/common/byte_reader.h"
#include "lunal/common/encoding.h"
#include "lunal/crypto/digest.h"
#include "ssh_wire.h"

namespace lunal::sign {
namespace {

using internal::ReadPositiveMpint;
using internal::ReadString;

Result<SshKeyType> KeyTypeFromName(std::string_view name) {
  if (name == "ssh-ed25519") return SshKeyType::kEd25519;
  if (name == "ecdsa-sha2-nistp256") return SshKeyType::kEcdsaP256;
  if (name == "ecdsa-sha2-nistp384") return SshKeyType::kEcdsaP384;
  if (name == "ssh-rsa") return SshKeyType::kRsa;
  return Unsupported("sign.key.unsupported_type",
                     "key type \"{}\" is not supported (ssh-ed25519, ecdsa-sha2-nistp256, "
                     "ecdsa-sha2-nistp384, ssh-rsa are)",
                     name);
}

// RFC 5656 §3.1: string curve identifier, string Q. Only uncompressed points (SEC 1 §2.3.3).
Result<crypto::PublicKey> ReadEcdsa(ByteReader& r, SshKeyType type) {
  bool p256 = type == SshKeyType::kEcdsaP256;
  LUNAL_ASSIGN_OR_RETURN(ByteSpan curve, ReadString(r, "sign.key.curve"));
  std::string_view expected = p256 ? "nistp256" : "nistp384";
  if (AsStringView(curve) != expected) {
    return Malformed("sign.key.curve_mismatch", "{} key names curve \"{}\"", SshKeyTypeName(type),
                     AsStringView(curve));
  }
  LUNAL_ASSIGN_OR_RETURN(ByteSpan q, ReadString(r, "sign.key.point"));
  crypto::Curve c = p256 ? crypto::Curve::kP256 : crypto::Curve::kP384;
  if (q.size() != 1 + 2 * crypto::CoordinateSize(c) || q[0] != 0x04) {
    return Malformed("sign.key.bad_point",
                     "{} key: point must be uncompressed (0x04 || x || y, {} bytes), got {} bytes",
                     SshKeyTypeName(type), 1 + 2 * crypto::CoordinateSize(c), q.size());
  }
  return crypto::PublicKey::FromEcPoint(c, q.subspan(1));
}

// The fields after the type name (RFC 4253 §6.6, RFC 8709 §4, RFC 5656 §3.1).
Result<crypto::PublicKey> ReadKeyMaterial(ByteReader& r, SshKeyType type) {
  switch (type) {
    case SshKeyType::kEd25519: {
      // RFC 8709 §4: string "ssh-ed25519", string key.
      LUNAL_ASSIGN_OR_RETURN(ByteSpan raw, ReadString(r, "sign.key.ed25519"));
      return crypto::PublicKey::FromRawEd25519(raw);
    }
    case SshKeyType::kEcdsaP256:
    case SshKeyType::kEcdsaP384:
      return ReadEcdsa(r, type);
    case SshKeyType::kRsa: {
      // RFC 4253 §6.6: string "ssh-rsa", mpint e, mpint n.
      LUNAL_ASSIGN_OR_RETURN(ByteSpan e, ReadPositiveMpint(r, "sign.key.rsa_e"));
      LUNAL_ASSIGN_OR_RETURN(ByteSpan n, ReadPositiveMpint(r, "sign.key.rsa_n"));
      return crypto::PublicKey::FromRsaModulusExponent(n, e);
    }
  }
  return Internal("sign.key.unreachable", "unknown key type");
}

}  // namespace

std::string_view SshKeyTypeName(SshKeyType type) {
  switch (type) {
    case SshKeyType::kEd25519:
      return "ssh-ed25519";
    case SshKeyType::kEcdsaP256:
      return "ecdsa-sha2-nistp256";
    case SshKeyType::kEcdsaP384:
      return "ecdsa-sha2-nistp384";
    case SshKeyType::kRsa:
      return "ssh-rsa";
  }
  return "unknown";
}

std::string KeyId::ToString() const { return fmt::format("{} {} ({})", bits, fingerprint, type); }

Result<SshPublicKey> SshPublicKey::FromBlob(ByteSpan blob) {
  ByteReader r(blob);
  LUNAL_ASSIGN_OR_RETURN(ByteSpan name, ReadString(r, "sign.key.type"));
  LUNAL_ASSIGN_OR_RETURN(SshKeyType type, KeyTypeFromName(AsStringView(name)));
  LUNAL_ASSIGN_OR_RETURN(crypto::PublicKey key, ReadKeyMaterial(r, type));
  LUNAL_RETURN_IF_ERROR(r.ExpectEnd("sign.key"));
  return SshPublicKey(type, Bytes(blob.begin(), blob.end()), std::move(key));
}

Result<SshPublicKey> SshPublicKey::FromOpenSshLine(std::string_view line) {
  auto next_field = [&line]() {
    std::size_t start = line.find_first_not_of(" \t\r\n");
    if (start == std::string_view::npos) return std::string_view();
    std::size_t end = line.find_first_of(" \t\r\n", start);
    std::string_view field = line.substr(start, end == std::string_view::npos ? end : end - start);
    line = end == std::string_view::npos ? std::string_view() : line.substr(end);
    return field;
  };
  std::string_view type_name = next_field();
  std::string_view base64 = next_field();
  if (type_name.empty() || base64.empty()) {
    return Malformed("sign.key.missing", "expected \"<key type> <base64 key> [comment]\"");
  }
  auto blob = Base64Decode(base64);
  if (!blob.ok()) {
    return Malformed("sign.key.bad_base64", "key blob: {}", blob.error().message());
  }
  LUNAL_ASSIGN_OR_RETURN(SshPublicKey key, FromBlob(*blob));
  if (SshKeyTypeName(key.type()) != type_name) {
    return Malformed("sign.key.type_mismatch", "line names key type \"{}\" but the blob is {}",
                     type_name, SshKeyTypeName(key.type()));
  }
  return key;
}

KeyId SshPublicKey::Id() const {
  KeyId id;
  // ssh-keygen -l: SHA-256 of the blob, base64 without '=' padding (sshkey_fingerprint_raw).
  id.fingerprint = "SHA256:" + Base64Encode(crypto::Sha256(blob_), Base64Alphabet::kStandard,
                                            /*pad=*/false);
  switch (type_) {
    case SshKeyType::kEd25519:
      id.bits = 256;
      id.type = "ED25519";
      break;
    case SshKeyType::kEcdsaP256:
      id.bits = 256;
      id.type = "ECDSA";
      break;
    case SshKeyType::kEcdsaP384:
      id.bits = 384;
      id.type = "ECDSA";
      break;
    case SshKeyType::kRsa:
      id.bits = key_.Bits();
      id.type = "RSA";
      break;
  }
  return id;
}

}  // namespace lunal::sign
