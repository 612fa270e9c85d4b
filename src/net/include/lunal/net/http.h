// Plain HTTP value types shared by the server (server.h) and the client (client.h).
//
// No Boost types appear here: a handler sees an HttpRequest and returns an HttpResponse, and the
// Beast plumbing stays inside src/net. All types are ordinary copyable values with no internal
// synchronisation (like std::string).
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lunal/common/bytes.h"

namespace lunal::net {

// Header fields in arrival (or insertion) order; names keep the case they were sent with.
using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

// The first value of header `name` (ASCII case-insensitive), or nullopt.
std::optional<std::string_view> FindHeader(const HttpHeaders& headers, std::string_view name);

// ASCII case-insensitive equality, as HTTP header names and schemes compare.
bool EqualsIgnoreCase(std::string_view a, std::string_view b);

// A request as the server hands it to a handler.
struct HttpRequest {
  std::string method;  // as sent, e.g. "GET" (methods are case-sensitive, RFC 9110 §9.1)
  std::string target;  // the raw request-target, e.g. "/v1/things/a%20b?x=1"
  std::string path;    // the target's path, percent-decoded, e.g. "/v1/things/a b"
  // Query parameters, percent-decoded ('+' decodes to a space). When a name repeats, the first
  // occurrence wins; a name without '=' maps to "".
  std::map<std::string, std::string, std::less<>> query;
  HttpHeaders headers;
  std::string body;
  std::string remote_address;  // "127.0.0.1:53412" or "[::1]:53412"
  // Filled by the Router: the values of the route's {name} segments, percent-decoded.
  std::map<std::string, std::string, std::less<>> path_params;
  bool is_tls = false;
  // The client's certificate (DER) when it presented one over TLS and it verified against the
  // configured client CA; empty otherwise.
  Bytes peer_certificate_der;

  std::optional<std::string_view> Header(std::string_view name) const {
    return FindHeader(headers, name);
  }
  // The path parameter `name`, or "" when the route has no such parameter.
  std::string_view PathParam(std::string_view name) const;
  // The query parameter `name`, or nullopt.
  std::optional<std::string_view> Query(std::string_view name) const;
};

// A response as a handler returns it (and as the client receives it).
//
// The server owns the framing headers: Content-Length, Transfer-Encoding and Connection set here
// are not sent as given ("Connection: close" does close the connection after this response), and
// it adds Server unless set here. A header whose name or value contains CR, LF or NUL makes the
// server answer 500 instead (it would split the response). 204 and 304 responses go without body.
struct HttpResponse {
  int status = 200;
  HttpHeaders headers;
  std::string body;
  // Set by HttpClient on TLS connections: the server's leaf certificate (DER) as verified during
  // the handshake of the connection that carried this response. Ignored in handler responses.
  Bytes peer_certificate_der{};

  std::optional<std::string_view> Header(std::string_view name) const {
    return FindHeader(headers, name);
  }
  // Appends a header and returns *this, for chaining.
  HttpResponse& AddHeader(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
    return *this;
  }

  // `body` serialised compactly, Content-Type: application/json. Invalid UTF-8 in strings is
  // replaced with U+FFFD rather than throwing.
  static HttpResponse Json(int status, const nlohmann::json& body);
  // Content-Type: text/plain; charset=utf-8.
  static HttpResponse Text(int status, std::string body);
};

// Decodes %XX escapes (and '+' as a space when `plus_as_space`). Returns nullopt for a truncated
// or non-hex escape, or an escape that decodes to NUL.
std::optional<std::string> PercentDecode(std::string_view text, bool plus_as_space);

}  // namespace lunal::net
