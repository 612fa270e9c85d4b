// ParseUrl: absolute http(s) URLs only, strict (RFC 3986 §3 with the restrictions in client.h).
#include <arpa/inet.h>

#include <algorithm>
#include <string>

#include "lunal/net/client.h"

namespace lunal::net {
namespace {

constexpr std::size_t kMaxUrlLength = 8192;

Status BadUrl(std::string_view url, std::string_view why) {
  // The URL is quoted only in part: it may be long, or carry a token in its query.
  return InvalidArgument("net.bad_url", "bad URL '{}': {}", url.substr(0, 100), why);
}

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool IsRegNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
}

// Path and query characters we pass through: visible ASCII except those that would change the
// meaning of the request line or are not allowed in a URI.
bool IsTargetChar(char c) {
  auto u = static_cast<unsigned char>(c);
  return u > 0x20 && u < 0x7f && c != '"' && c != '<' && c != '>' && c != '\\' && c != '^' &&
         c != '`' && c != '{' && c != '|' && c != '}';
}

}  // namespace

bool Url::host_is_ipv6() const { return host.find(':') != std::string::npos; }

std::string Url::HostHeader() const {
  std::string out = host_is_ipv6() ? "[" + host + "]" : host;
  bool default_port = (scheme == "http" && port == 80) || (scheme == "https" && port == 443);
  if (!default_port) out += ":" + std::to_string(port);
  return out;
}

Result<Url> ParseUrl(std::string_view url) {
  if (url.size() > kMaxUrlLength) return BadUrl(url, "too long");
  if (url.find('#') != std::string_view::npos) return BadUrl(url, "fragments are not allowed");
  std::size_t colon = url.find("://");
  if (colon == std::string_view::npos) return BadUrl(url, "missing scheme");
  Url out;
  for (char c : url.substr(0, colon)) out.scheme.push_back(Lower(c));
  if (out.scheme != "http" && out.scheme != "https") {
    return BadUrl(url, "scheme must be http or https");
  }
  std::string_view rest = url.substr(colon + 3);
  std::size_t authority_end = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, authority_end);
  std::string_view target =
      authority_end == std::string_view::npos ? std::string_view() : rest.substr(authority_end);
  if (authority.find('@') != std::string_view::npos) return BadUrl(url, "userinfo not allowed");

  std::string_view port_text;
  if (!authority.empty() && authority.front() == '[') {
    std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return BadUrl(url, "unterminated IPv6 literal");
    std::string literal(authority.substr(1, close - 1));
    in6_addr address{};
    if (literal.find('%') != std::string::npos ||
        inet_pton(AF_INET6, literal.c_str(), &address) != 1) {
      return BadUrl(url, "bad IPv6 literal");
    }
    std::transform(literal.begin(), literal.end(), literal.begin(), Lower);
    out.host = std::move(literal);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return BadUrl(url, "junk after IPv6 literal");
      port_text = after.substr(1);
      if (port_text.empty()) return BadUrl(url, "empty port");
    }
  } else {
    std::size_t port_colon = authority.find(':');
    std::string_view host = authority.substr(0, port_colon);
    if (port_colon != std::string_view::npos) {
      port_text = authority.substr(port_colon + 1);
      if (port_text.empty()) return BadUrl(url, "empty port");
    }
    if (host.empty()) return BadUrl(url, "empty host");
    for (char c : host) {
      char lower = Lower(c);
      if (!IsRegNameChar(lower)) return BadUrl(url, "bad character in host");
      out.host.push_back(lower);
    }
  }
  if (port_text.empty()) {
    out.port = out.is_tls() ? 443 : 80;
  } else {
    if (port_text.size() > 5) return BadUrl(url, "port out of range");
    unsigned value = 0;
    for (char c : port_text) {
      if (c < '0' || c > '9') return BadUrl(url, "port is not a number");
      value = value * 10 + static_cast<unsigned>(c - '0');
    }
    if (value == 0 || value > 65535) return BadUrl(url, "port out of range");
    out.port = static_cast<std::uint16_t>(value);
  }
  if (!std::all_of(target.begin(), target.end(), IsTargetChar)) {
    return BadUrl(url, "path or query has characters that must be percent-encoded");
  }
  out.target =
      target.empty() || target.front() == '?' ? "/" + std::string(target) : std::string(target);
  return out;
}

}  // namespace lunal::net
