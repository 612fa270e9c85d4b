#!/usr/bin/env python3
"""Validates a Lunal result token with PyJWT, an independent JWT implementation.

Usage: pyjwt_validate.py JWKS_FILE TOKEN_FILE ISSUER

Selects the key by the token header's kid from the JWKS (jwt.PyJWKSet), checks that every kid
is the RFC 7638 thumbprint of its key, then jwt.decode(algorithms=["ES256"]) checks the
signature, exp, nbf, iat and iss against the real clock. On success prints the claims as JSON
(keys sorted) and exits 0; on any failure prints the exception's class and message to stderr and
exits 1 (2 for bad usage).

Needs Debian's python3-jwt and python3-cryptography.
"""
import base64
import hashlib
import json
import sys

import jwt


def thumbprint(jwk):
    # RFC 7638 section 3.2: the required EC members, sorted, no whitespace.
    required = {k: jwk[k] for k in ("crv", "kty", "x", "y")}
    canonical = json.dumps(required, sort_keys=True, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(hashlib.sha256(canonical).digest()).rstrip(b"=").decode()


def main(argv):
    if len(argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    with open(argv[1]) as f:
        jwks = json.load(f)
    with open(argv[2]) as f:
        token = f.read().strip()
    issuer = argv[3]
    try:
        for jwk in jwks["keys"]:
            if jwk["kid"] != thumbprint(jwk):
                raise ValueError("kid %s is not the key's RFC 7638 thumbprint" % jwk["kid"])
        key_set = jwt.PyJWKSet.from_dict(jwks)
        kid = jwt.get_unverified_header(token).get("kid")
        key = key_set[kid]  # PyJWKSet raises KeyError for a kid it does not hold
        claims = jwt.decode(
            token,
            key.key,
            algorithms=["ES256"],
            issuer=issuer,
            options={"require": ["exp", "iat", "nbf", "iss"]},
        )
    except Exception as e:  # every failure is an answer, reported the same way
        print("%s: %s" % (type(e).__name__, e), file=sys.stderr)
        return 1
    print(json.dumps(claims, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
