// Attestation result tokens: JWTs (RFC 7519) in JWS compact serialization (RFC 7515 §7.1),
// signed ES256 (RFC 7518 §3.4: ECDSA P-256 SHA-256, signature = r ‖ s, 64 bytes). Relying
// parties check them with any JWT library and the JWKS; docs/formats/result-token.md.
//
//   Issuer issuer(ring, clock, {.issuer = "https://attest.example"});
//   LUNAL_ASSIGN_OR_RETURN(std::string jwt, issuer.Issue(lunal_claims, nonce));
//   LUNAL_ASSIGN_OR_RETURN(ValidatedToken t,
//                          Validate(jwt, ring->Jwks(now), now, "https://attest.example"));
//
// Header: {"alg":"ES256","kid":<RFC 7638 thumbprint>,"typ":"JWT"}. Claims: iss, iat, nbf, exp
// (NumericDate, whole seconds), jti (16 random bytes, base64url), nonce (when given) and "lunal",
// the verification record's essentials as the caller builds them (tee, simulated, measurements,
// tcb_status, advisory_ids, build_hash, policy): this library judges none of them. Header and
// claims are serialized as canonical JSON (keys sorted, no whitespace).
//
// Validate (for Lunal's own consumers) checks, in order: size, three base64url parts, the header
// (alg exactly "ES256" — "none", HS256 and everything else refused —, typ "JWT" if present,
// no "crit", a kid), the kid in the JWKS, the signature, then the claims: exp (required), nbf and
// iat (if present) against `now` with a leeway, and iss.
//
// Errors (stable reasons):
//   Issue: kInvalidArgument token.claims.not_object ("lunal" is not a JSON object),
//          json.float_not_canonical / json.invalid_utf8 (claims that cannot be canonical);
//          the KeyRing's errors.
//   Validate: kVerificationFailed token.too_large, token.malformed (structure, base64url,
//          JSON), token.alg_not_allowed, token.typ_not_jwt, token.crit_unsupported,
//          token.kid_missing, token.kid_unknown, token.signature_invalid, token.claims.malformed
//          (exp missing, a time not an integer, iss not a string), token.expired,
//          token.not_yet_valid, token.issued_in_future, token.issuer_mismatch;
//          kMalformed token.jwks.malformed (the JWKS given is not {"keys": [...]} or its key
//          for the kid is not a P-256 JWK).
//
// Thread-safety: an Issuer is immutable (its KeyRing synchronises); Validate is pure.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "lunal/attest/token/key_ring.h"
#include "lunal/common/json.h"
#include "lunal/common/result.h"
#include "lunal/common/time.h"

namespace lunal::attest::token {

struct IssuerOptions {
  std::string issuer;                                       // "iss"
  std::chrono::seconds lifetime = std::chrono::minutes(5);  // exp - iat
};

class Issuer {
 public:
  // The ring is shared (the service also publishes its JWKS); `clock` is borrowed and must
  // outlive the Issuer.
  Issuer(std::shared_ptr<KeyRing> ring, const Clock& clock, IssuerOptions options);

  // A signed token for `lunal` (a JSON object) and the verifier nonce (when the request had one).
  Result<std::string> Issue(const Json& lunal,
                            const std::optional<std::string>& nonce = std::nullopt) const;

  // The JWKS to publish now (/.well-known/jwks.json).
  Json Jwks() const;
  // Rotates the ring at the clock's now.
  Status Rotate() const;

  const KeyRing& ring() const { return *ring_; }

 private:
  std::shared_ptr<KeyRing> ring_;
  const Clock& clock_;
  IssuerOptions options_;
};

struct ValidateOptions {
  std::chrono::seconds leeway = std::chrono::seconds(30);  // clock skew allowed on exp/nbf/iat
  std::size_t max_token_size = 16 * 1024;
};

struct ValidatedToken {
  Json header;
  Json claims;
  std::string kid;
};

Result<ValidatedToken> Validate(std::string_view token, const Json& jwks, Timestamp now,
                                std::string_view expected_issuer,
                                const ValidateOptions& options = {});

}  // namespace lunal::attest::token
