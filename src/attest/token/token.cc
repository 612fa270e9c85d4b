// Issuer and Validate (token.h).
#include "lunal/attest/token/token.h"

#include <fmt/format.h>

#include "lunal/attest/token/jwk.h"
#include "lunal/common/encoding.h"
#include "lunal/crypto/random.h"
#include "lunal/crypto/signature.h"

namespace lunal::attest::token {

Issuer::Issuer(std::shared_ptr<KeyRing> ring, const Clock& clock, IssuerOptions options)
    : ring_(std::move(ring)), clock_(clock), options_(std::move(options)) {}

Result<std::string> Issuer::Issue(const Json& lunal,
                                  const std::optional<std::string>& nonce) const {
  if (!lunal.is_object()) {
    return InvalidArgument("token.claims.not_object",
                           "the \"lunal\" claim must be an object, not {}", JsonTypeName(lunal));
  }
  const Timestamp now = clock_.Now();
  const std::int64_t iat = ToUnixSeconds(now);
  const std::int64_t exp = iat + options_.lifetime.count();
  // RFC 7519 §4.1: registered claims; NumericDate = seconds since the epoch (§2).
  Json claims = {
      {"iss", options_.issuer},
      {"iat", iat},
      {"nbf", iat},
      {"exp", exp},
      {"jti", Base64UrlEncode(crypto::RandomBytes(16))},  // §4.1.7: unique per token
      {"lunal", lunal},
  };
  if (nonce) claims["nonce"] = *nonce;
  LUNAL_ASSIGN_OR_RETURN(std::string payload, CanonicalJson(claims));
  // RFC 7515 §4.1.1 alg, RFC 7519 §5.1 typ; the ring adds kid (§4.1.4).
  LUNAL_ASSIGN_OR_RETURN(
      KeyRing::Signed signed_token,
      ring_->SignCompact({{"alg", "ES256"}, {"typ", "JWT"}}, payload, FromUnixSeconds(exp), now));
  return std::move(signed_token.compact);
}

Json Issuer::Jwks() const { return ring_->Jwks(clock_.Now()); }

Status Issuer::Rotate() const { return ring_->Rotate(clock_.Now()); }

namespace {

Status Bad(std::string reason, std::string message) {
  return VerificationFailed(std::move(reason), std::move(message));
}

// RFC 7515 §2 / RFC 7519 §3: base64url without padding, then (header, claims) a JSON object.
Result<Bytes> DecodePart(std::string_view text, std::string_view what) {
  auto bytes = Base64Decode(text, {.alphabet = Base64Alphabet::kUrl,
                                   .padding = Base64DecodeOptions::Padding::kForbidden});
  if (!bytes.ok()) {
    return Bad("token.malformed", fmt::format("{}: {}", what, bytes.error().message()));
  }
  return bytes;
}

Result<Json> DecodeObject(std::string_view text, std::string_view what) {
  LUNAL_ASSIGN_OR_RETURN(Bytes bytes, DecodePart(text, what));
  auto json = ParseJson(AsStringView(bytes));
  if (!json.ok())
    return Bad("token.malformed", fmt::format("{}: {}", what, json.error().message()));
  if (!json->is_object()) return Bad("token.malformed", fmt::format("{} is not an object", what));
  return json;
}

Status CheckHeader(const Json& header) {
  // RFC 8725 §3.1: accept exactly the algorithm we use; "none" and HMAC never.
  auto alg = header.find("alg");
  if (alg == header.end() || !alg->is_string() || *alg != "ES256") {
    return Bad("token.alg_not_allowed",
               fmt::format("alg {} is not allowed (only \"ES256\")",
                           alg == header.end() ? "(missing)" : alg->dump()));
  }
  auto typ = header.find("typ");
  if (typ != header.end() && (!typ->is_string() || *typ != "JWT")) {
    return Bad("token.typ_not_jwt", fmt::format("typ {} is not \"JWT\"", typ->dump()));
  }
  // RFC 7515 §4.1.11: a recipient that does not understand a "crit" extension must reject.
  if (header.contains("crit"))
    return Bad("token.crit_unsupported", "no \"crit\" extension is supported");
  auto kid = header.find("kid");
  if (kid == header.end() || !kid->is_string()) return Bad("token.kid_missing", "no kid");
  return Status();
}

Result<crypto::PublicKey> KeyFor(const Json& jwks, const std::string& kid) {
  if (!jwks.is_object() || !jwks.contains("keys") || !jwks["keys"].is_array()) {
    return Malformed("token.jwks.malformed", "the JWKS is not {\"keys\": [...]}");
  }
  for (const Json& jwk : jwks["keys"]) {
    if (!jwk.is_object() || jwk.value("kid", Json()) != kid) continue;
    if (jwk.contains("alg") && jwk["alg"] != "ES256") {
      return Malformed("token.jwks.malformed", fmt::format("key {} is not for ES256", kid));
    }
    auto key = PublicKeyFromJwk(jwk);
    if (!key.ok()) {
      return Malformed("token.jwks.malformed",
                       fmt::format("key {}: {}", kid, key.error().message()));
    }
    return key;
  }
  return Bad("token.kid_unknown", fmt::format("kid {} is not in the JWKS", kid));
}

Result<std::optional<std::int64_t>> NumericDate(const Json& claims, const char* name) {
  auto it = claims.find(name);
  if (it == claims.end()) return std::optional<std::int64_t>();
  if (!it->is_number_integer()) {
    return Bad("token.claims.malformed", fmt::format("{} is not an integer NumericDate", name));
  }
  return std::optional<std::int64_t>(it->get<std::int64_t>());
}

// RFC 7519 §4.1.4 exp, §4.1.5 nbf, §4.1.6 iat; §4.1.1 iss.
Status CheckClaims(const Json& claims, Timestamp now, std::string_view expected_issuer,
                   std::chrono::seconds leeway) {
  LUNAL_ASSIGN_OR_RETURN(std::optional<std::int64_t> exp, NumericDate(claims, "exp"));
  LUNAL_ASSIGN_OR_RETURN(std::optional<std::int64_t> nbf, NumericDate(claims, "nbf"));
  LUNAL_ASSIGN_OR_RETURN(std::optional<std::int64_t> iat, NumericDate(claims, "iat"));
  const std::int64_t t = ToUnixSeconds(now);
  const std::int64_t skew = leeway.count();
  if (!exp) return Bad("token.claims.malformed", "exp is required");
  if (t >= *exp + skew) {
    return Bad("token.expired",
               fmt::format("expired at {} (now {}, leeway {}s)",
                           FormatRfc3339(FromUnixSeconds(*exp)), FormatRfc3339(now), skew));
  }
  if (nbf && t + skew < *nbf) {
    return Bad("token.not_yet_valid",
               fmt::format("not valid before {}", FormatRfc3339(FromUnixSeconds(*nbf))));
  }
  if (iat && t + skew < *iat) {
    return Bad("token.issued_in_future",
               fmt::format("issued at {}, after now", FormatRfc3339(FromUnixSeconds(*iat))));
  }
  auto iss = claims.find("iss");
  if (iss == claims.end() || !iss->is_string()) return Bad("token.claims.malformed", "no iss");
  if (*iss != expected_issuer) {
    return Bad("token.issuer_mismatch",
               fmt::format("issuer {} is not \"{}\"", iss->dump(), expected_issuer));
  }
  return Status();
}

}  // namespace

Result<ValidatedToken> Validate(std::string_view token, const Json& jwks, Timestamp now,
                                std::string_view expected_issuer, const ValidateOptions& options) {
  // 1. Size and the three parts of the compact serialization (RFC 7515 §7.1).
  if (token.size() > options.max_token_size) {
    return Bad("token.too_large",
               fmt::format("{} bytes, at most {}", token.size(), options.max_token_size));
  }
  const std::size_t dot1 = token.find('.');
  const std::size_t dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
    return Bad("token.malformed", "not three base64url parts separated by '.'");
  }
  const std::string_view header_b64 = token.substr(0, dot1);
  const std::string_view payload_b64 = token.substr(dot1 + 1, dot2 - dot1 - 1);
  const std::string_view signature_b64 = token.substr(dot2 + 1);
  // 2. The header: algorithm, type, extensions, key id.
  LUNAL_ASSIGN_OR_RETURN(Json header, DecodeObject(header_b64, "header"));
  LUNAL_RETURN_IF_ERROR(CheckHeader(header));
  const std::string kid = header["kid"];
  // 3. The key, then the signature over the signing input, before anything in the payload.
  LUNAL_ASSIGN_OR_RETURN(crypto::PublicKey key, KeyFor(jwks, kid));
  LUNAL_ASSIGN_OR_RETURN(Bytes signature, DecodePart(signature_b64, "signature"));
  const std::string_view signing_input = token.substr(0, dot2);
  Status sig = crypto::VerifyEcdsaRaw(key, crypto::DigestAlgorithm::kSha256, AsBytes(signing_input),
                                      signature);
  if (!sig.ok()) {
    return Bad("token.signature_invalid", fmt::format("signature: {}", sig.message()));
  }
  // 4. The claims.
  LUNAL_ASSIGN_OR_RETURN(Json claims, DecodeObject(payload_b64, "claims"));
  LUNAL_RETURN_IF_ERROR(CheckClaims(claims, now, expected_issuer, options.leeway));
  return ValidatedToken{.header = std::move(header), .claims = std::move(claims), .kid = kid};
}

}  // namespace lunal::attest::token
