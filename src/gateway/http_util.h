// HTTP helpers of the gateway (private to src/gateway): hop-by-hop fields, the client's IP, and
// the two ways a request names its deployment (docs/protocols/gateway.md "Routing").
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lunal/net/http.h"

namespace lunal::gateway::internal {

std::string Lower(std::string_view s);
// Without leading and trailing spaces and tabs (HTTP's OWS, RFC 9110 §5.6.3).
std::string_view Trim(std::string_view s);

// The field names listed in every Connection header (RFC 9110 §7.6.1), lower-cased.
std::vector<std::string> ConnectionOptions(const net::HttpHeaders& headers);

// Hop-by-hop fields (RFC 9110 §7.6.1: Connection, Keep-Alive, Proxy-*, TE, Trailer,
// Transfer-Encoding, Upgrade), plus `listed` (from ConnectionOptions).
bool IsHopByHop(std::string_view name, const std::vector<std::string>& listed);

// "127.0.0.1:53412" → "127.0.0.1"; "[::1]:53412" → "::1".
std::string_view RemoteIp(std::string_view remote);

// The deployment named by a Host value "<deployment>.<domain>[:port]" (ASCII case-insensitive,
// one trailing dot allowed), lower-cased; nullopt for any other host.
std::optional<std::string> HostDeployment(std::string_view host, std::string_view domain_lower);

struct PathRoute {
  std::string name;    // lower-cased
  std::string target;  // the upstream target: the rest of the path, and the query
};

// "/d/<deployment>/rest?q" → {deployment, "/rest?q"}; "/d/<deployment>" or "/d/<deployment>?q" →
// {deployment, "/" or "/?q"}. Works on the raw target, so the upstream sees the client's escapes.
std::optional<PathRoute> PathDeployment(std::string_view target);

}  // namespace lunal::gateway::internal
