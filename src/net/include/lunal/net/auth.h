// Bearer tokens on requests (RFC 6750 §2.1, "Authorization: Bearer <token>"), for services that
// hold only a token's SHA-256 (the node API, the gateway's admin API, the control plane).
//
// Thread-safety: pure functions.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "lunal/net/http.h"

namespace lunal::net {

// The token of the request's "Authorization: Bearer <token>" header (the scheme matched
// case-insensitively), or "" when there is no such header or the token is empty.
std::string_view BearerToken(const HttpRequest& request);

// Whether the request's bearer token hashes (SHA-256) to `expected_sha256`. The presented token
// is hashed before the constant-time comparison, so the time taken does not depend on where, or
// whether, it differs. A missing or empty token never matches.
bool BearerMatches(const HttpRequest& request, const std::array<std::uint8_t, 32>& expected_sha256);

}  // namespace lunal::net
