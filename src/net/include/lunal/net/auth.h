// Who may call an API. Bearer tokens on requests (RFC 6750 §2.1, "Authorization: Bearer <token>"),
// for services that hold only a token's SHA-256 (the node API in lunald dev, the control plane),
// and the Authorizer a route table runs before anything else in each handler, so that one API can
// be guarded by a token (BearerAuthorizer) or by the mesh certificate its TLS handshake verified
// (mesh::MeshPeerAuthorizer, lunal/mesh/tls.h).
//
// Thread-safety: pure functions; an Authorizer is immutable and may run on any server thread.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "lunal/common/result.h"
#include "lunal/common/status.h"
#include "lunal/net/http.h"

namespace lunal::net {

// The token of the request's "Authorization: Bearer <token>" header (the scheme matched
// case-insensitively), or "" when there is no such header or the token is empty.
std::string_view BearerToken(const HttpRequest& request);

// Whether the request's bearer token hashes (SHA-256) to `expected_sha256`. The presented token
// is hashed before the constant-time comparison, so the time taken does not depend on where, or
// whether, it differs. A missing or empty token never matches.
bool BearerMatches(const HttpRequest& request, const std::array<std::uint8_t, 32>& expected_sha256);

// Admits or refuses a request before its handler looks at it: Status::Ok() to admit, else the
// error the caller answers with (net::ErrorResponse).
using Authorizer = std::function<Status(const HttpRequest&)>;

// Admits requests whose bearer token is `token` (BearerMatches); refuses others with
// Unauthenticated `reason`. Errors: InvalidArgument `bad_option_reason` for an empty token.
Result<Authorizer> BearerAuthorizer(std::string_view token, std::string reason,
                                    std::string_view bad_option_reason);

}  // namespace lunal::net
