#include "lunal/crypto/dsse.h"

#include <string>
#include <utility>

#include "lunal/common/encoding.h"
#include "lunal/common/json.h"
#include "lunal/crypto/digest.h"
#include "lunal/crypto/signature.h"

namespace lunal::crypto {
namespace {

constexpr std::string_view kPaePrefix = "DSSEv1";

void Append(Bytes& out, std::string_view text) { out.insert(out.end(), text.begin(), text.end()); }

// envelope.md: "Either standard or URL-safe encoding is allowed." Standard with padding first
// (what we, securesystemslib and go-securesystemslib write); then URL-safe, padding optional.
// lunal::Base64Decode refuses non-canonical trailing bits, so each text has one decoding, and a
// text mixing '+' and '_' fails both.
Result<Bytes> DecodeBase64Member(const Json& object, std::string_view key, std::string_view path) {
  const auto it = object.find(key);
  if (it == object.end()) {
    return Malformed("crypto.dsse.missing_field", "DSSE envelope: {} is missing",
                     JsonPath(path, key));
  }
  if (!it->is_string()) {
    return Malformed("crypto.dsse.wrong_type", "DSSE envelope: {}: expected string, got {}",
                     JsonPath(path, key), JsonTypeName(*it));
  }
  const std::string& text = it->get_ref<const std::string&>();
  Result<Bytes> standard = Base64Decode(text);
  if (standard.has_value()) return standard;
  Result<Bytes> url = Base64Decode(
      text, {.alphabet = Base64Alphabet::kUrl, .padding = Base64DecodeOptions::Padding::kOptional});
  if (url.has_value()) return url;
  return Malformed("crypto.dsse.bad_base64", "DSSE envelope: {}: {}", JsonPath(path, key),
                   standard.error().message());
}

Result<std::string> StringMember(const Json& object, std::string_view key, std::string_view path,
                                 bool required) {
  const auto it = object.find(key);
  if (it == object.end()) {
    if (!required) return std::string();
    return Malformed("crypto.dsse.missing_field", "DSSE envelope: {} is missing",
                     JsonPath(path, key));
  }
  if (!it->is_string()) {
    return Malformed("crypto.dsse.wrong_type", "DSSE envelope: {}: expected string, got {}",
                     JsonPath(path, key), JsonTypeName(*it));
  }
  return it->get<std::string>();
}

Result<DsseSignature> ParseSignature(const Json& value, std::string_view path) {
  if (!value.is_object()) {
    return Malformed("crypto.dsse.wrong_type", "DSSE envelope: {}: expected object, got {}", path,
                     JsonTypeName(value));
  }
  DsseSignature out;
  LUNAL_ASSIGN_OR_RETURN(out.keyid, StringMember(value, "keyid", path, /*required=*/false));
  LUNAL_ASSIGN_OR_RETURN(out.sig, DecodeBase64Member(value, "sig", path));
  if (const auto ext = value.find("extension"); ext != value.end() && !ext->is_null()) {
    // envelope.md "Signature Extensions": {"kind": EXTENSION_KIND, "ext": {...}}.
    if (!ext->is_object() || !ext->contains("kind") || !(*ext)["kind"].is_string()) {
      return Malformed("crypto.dsse.bad_extension",
                       "DSSE envelope: {}: expected an object with a string \"kind\"",
                       JsonPath(path, "extension"));
    }
    out.extension = *ext;
  }
  return out;
}

// The digest each key type signs with (see the header).
Result<DigestAlgorithm> EcdsaDigestFor(KeyType type) {
  switch (type) {
    case KeyType::kEcP256:
      return DigestAlgorithm::kSha256;
    case KeyType::kEcP384:
      return DigestAlgorithm::kSha384;
    default:
      return Unsupported("crypto.dsse.unsupported_key", "DSSE: {} keys are not supported",
                         KeyTypeName(type));
  }
}

}  // namespace

Bytes Pae(std::string_view payload_type, ByteSpan payload) {
  Bytes out;
  out.reserve(kPaePrefix.size() + payload_type.size() + payload.size() + 44);
  Append(out, kPaePrefix);
  Append(out, " ");
  Append(out, std::to_string(payload_type.size()));
  Append(out, " ");
  Append(out, payload_type);
  Append(out, " ");
  Append(out, std::to_string(payload.size()));
  Append(out, " ");
  out.insert(out.end(), payload.begin(), payload.end());
  return out;
}

Result<DsseEnvelope> ParseDsse(std::string_view json) {
  Result<Json> doc = ParseJson(json);
  if (!doc.has_value()) {
    return Malformed("crypto.dsse.bad_json", "DSSE envelope: {}", doc.error().message());
  }
  if (!doc->is_object()) {
    return Malformed("crypto.dsse.wrong_type", "DSSE envelope: expected an object, got {}",
                     JsonTypeName(*doc));
  }
  DsseEnvelope out;
  LUNAL_ASSIGN_OR_RETURN(out.payload, DecodeBase64Member(*doc, "payload", ""));
  LUNAL_ASSIGN_OR_RETURN(out.payload_type, StringMember(*doc, "payloadType", "", true));
  const auto sigs = doc->find("signatures");
  if (sigs == doc->end()) {
    return Malformed("crypto.dsse.missing_field", "DSSE envelope: signatures is missing");
  }
  if (!sigs->is_array()) {
    return Malformed("crypto.dsse.wrong_type", "DSSE envelope: signatures: expected array, got {}",
                     JsonTypeName(*sigs));
  }
  if (sigs->empty()) {
    return Malformed("crypto.dsse.no_signatures", "DSSE envelope: signatures is empty");
  }
  for (std::size_t i = 0; i < sigs->size(); ++i) {
    LUNAL_ASSIGN_OR_RETURN(DsseSignature sig,
                           ParseSignature((*sigs)[i], JsonPath("signatures", i)));
    out.signatures.push_back(std::move(sig));
  }
  return out;
}

std::string SerializeDsse(const DsseEnvelope& envelope) {
  Json sigs = Json::array();
  for (const DsseSignature& s : envelope.signatures) {
    Json entry = {{"keyid", s.keyid}, {"sig", Base64Encode(s.sig)}};
    if (!s.extension.is_null()) entry["extension"] = s.extension;
    sigs.push_back(std::move(entry));
  }
  const Json doc = {{"payload", Base64Encode(envelope.payload)},
                    {"payloadType", envelope.payload_type},
                    {"signatures", std::move(sigs)}};
  // nlohmann's object is a std::map: members come out in byte order. Strings were produced by us
  // or parsed as UTF-8, so dump cannot meet invalid UTF-8 here; replace rather than throw anyway.
  return DumpJson(doc);
}

Result<DsseSignature> SignDsse(const DsseEnvelope& unsigned_env, const PrivateKey& key,
                               std::string keyid) {
  const Bytes pae = Pae(unsigned_env.payload_type, unsigned_env.payload);
  DsseSignature out{.keyid = std::move(keyid)};
  if (key.Type() == KeyType::kEd25519) {
    LUNAL_ASSIGN_OR_RETURN(out.sig, SignEd25519(key, pae));
    return out;
  }
  LUNAL_ASSIGN_OR_RETURN(DigestAlgorithm digest, EcdsaDigestFor(key.Type()));
  LUNAL_ASSIGN_OR_RETURN(out.sig, SignEcdsaDer(key, digest, pae));
  return out;
}

Status VerifyDsse(const DsseEnvelope& envelope, const PublicKey& key, std::string_view keyid) {
  const KeyType type = key.Type();
  DigestAlgorithm digest = DigestAlgorithm::kSha256;
  if (type != KeyType::kEd25519) {
    LUNAL_ASSIGN_OR_RETURN(digest, EcdsaDigestFor(type));
  }
  const Bytes pae = Pae(envelope.payload_type, envelope.payload);
  std::size_t tried = 0;
  for (const DsseSignature& s : envelope.signatures) {
    if (!keyid.empty() && s.keyid != keyid) continue;
    ++tried;
    const Status status = type == KeyType::kEd25519 ? VerifyEd25519(key, pae, s.sig)
                                                    : VerifyEcdsaDer(key, digest, pae, s.sig);
    if (status.ok()) return Status::Ok();
  }
  if (tried == 0) {
    return VerificationFailed("crypto.dsse.no_matching_signature",
                              "DSSE envelope: none of its {} signature(s) has keyid \"{}\"",
                              envelope.signatures.size(), keyid);
  }
  return VerificationFailed("crypto.dsse.signature_invalid",
                            "DSSE envelope: none of the {} signature(s) tried verifies with the "
                            "given {} key",
                            tried, KeyTypeName(type));
}

}  // namespace lunal::crypto
