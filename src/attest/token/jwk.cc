// RFC 7517/7518 EC JWKs and RFC 7638 thumbprints for P-256 keys.
#include "lunal/attest/token/jwk.h"

#include "lunal/common/encoding.h"
#include "lunal/crypto/digest.h"

namespace lunal::attest::token {
namespace {

constexpr std::size_t kCoordinate = 32;  // P-256 (RFC 7518 §6.2.1.2: full coordinate length)

}  // namespace

Result<Json> PublicJwk(const crypto::PublicKey& key) {
  if (key.Type() != crypto::KeyType::kEcP256) {
    return InvalidArgument("token.jwk.wrong_key_type", "token keys are P-256, not {}",
                           crypto::KeyTypeName(key.Type()));
  }
  LUNAL_ASSIGN_OR_RETURN(Bytes xy, key.EcPoint());
  const ByteSpan point(xy);
  return Json{{"crv", "P-256"},
              {"kty", "EC"},
              {"x", Base64UrlEncode(point.first(kCoordinate))},
              {"y", Base64UrlEncode(point.subspan(kCoordinate))}};
}

Result<std::string> JwkThumbprint(const crypto::PublicKey& key) {
  // RFC 7638 §3.2: the required members only, lexicographic order, no whitespace: exactly
  // CanonicalJson of PublicJwk (whose values are ASCII, so no escaping question arises).
  LUNAL_ASSIGN_OR_RETURN(Json jwk, PublicJwk(key));
  LUNAL_ASSIGN_OR_RETURN(std::string canonical, CanonicalJson(jwk));
  return Base64UrlEncode(crypto::Sha256(AsBytes(canonical)));
}

Result<crypto::PublicKey> PublicKeyFromJwk(const Json& jwk) {
  auto member = [&](const char* name) -> const Json* {
    if (!jwk.is_object()) return nullptr;
    auto it = jwk.find(name);
    return it != jwk.end() && it->is_string() ? &*it : nullptr;
  };
  const Json* kty = member("kty");
  const Json* crv = member("crv");
  const Json* x = member("x");
  const Json* y = member("y");
  if (kty == nullptr || *kty != "EC" || crv == nullptr || *crv != "P-256" || x == nullptr ||
      y == nullptr) {
    return Malformed("token.jwk.malformed", "not an EC P-256 JWK");
  }
  const Base64DecodeOptions strict{.alphabet = Base64Alphabet::kUrl,
                                   .padding = Base64DecodeOptions::Padding::kForbidden};
  auto xb = Base64Decode(x->get<std::string>(), strict);
  auto yb = Base64Decode(y->get<std::string>(), strict);
  if (!xb.ok() || !yb.ok() || xb->size() != kCoordinate || yb->size() != kCoordinate) {
    return Malformed("token.jwk.malformed", "x and y must be {} bytes in base64url", kCoordinate);
  }
  Bytes xy = std::move(*xb);
  xy.insert(xy.end(), yb->begin(), yb->end());
  return crypto::PublicKey::FromEcPoint(crypto::Curve::kP256, xy);
}

}  // namespace lunal::attest::token
