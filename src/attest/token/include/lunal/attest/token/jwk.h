// JSON Web Keys for the P-256 keys that sign result tokens (RFC 7517, RFC 7518 §6.2) and their
// RFC 7638 thumbprints, which are the tokens' key ids.
//
//   LUNAL_ASSIGN_OR_RETURN(std::string kid, JwkThumbprint(public_key));
//   LUNAL_ASSIGN_OR_RETURN(Json jwk, PublicJwk(public_key));   // {"crv","kty","x","y"}
//
// Errors (stable reasons):
//   kInvalidArgument token.jwk.wrong_key_type (not a P-256 key)
//   kMalformed       token.jwk.malformed (PublicKeyFromJwk: not an EC P-256 JWK with 32-byte
//                    base64url x and y), crypto.ec.point_not_on_curve
// Pure functions; thread-safe.
#pragma once

#include <string>

#include "lunal/common/json.h"
#include "lunal/common/result.h"
#include "lunal/crypto/keys.h"

namespace lunal::attest::token {

// {"crv":"P-256","kty":"EC","x":<base64url 32 bytes>,"y":<base64url 32 bytes>}: exactly the
// required members of RFC 7518 §6.2.1, no private member "d".
Result<Json> PublicJwk(const crypto::PublicKey& key);

// RFC 7638 §3: base64url(SHA-256(the required members in lexicographic order, no whitespace)),
// i.e. of {"crv":"P-256","kty":"EC","x":"…","y":"…"}. 43 characters.
Result<std::string> JwkThumbprint(const crypto::PublicKey& key);

// The P-256 public key of an EC JWK (other members, like "kid", "alg" and "use", are not read
// here).
Result<crypto::PublicKey> PublicKeyFromJwk(const Json& jwk);

}  // namespace lunal::attest::token
