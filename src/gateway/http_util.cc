#include "http_util.h"

#include <algorithm>
#include <cctype>

namespace lunal::gateway::internal {
namespace {

bool StartsWithIgnoreCase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && net::EqualsIgnoreCase(s.substr(0, prefix.size()), prefix);
}

}  // namespace

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The field names listed in every Connection header (RFC 9110 §7.6.1), lower-cased.
std::vector<std::string> ConnectionOptions(const net::HttpHeaders& headers) {
  std::vector<std::string> names;
  for (const auto& [name, value] : headers) {
    if (!net::EqualsIgnoreCase(name, "Connection")) continue;
    std::string_view rest = value;
    while (!rest.empty()) {
      const std::size_t comma = rest.find(',');
      const std::string_view token = Trim(rest.substr(0, comma));
      if (!token.empty()) names.push_back(Lower(token));
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    }
  }
  return names;
}

// Hop-by-hop fields (RFC 9110 §7.6.1, §7.8 Upgrade, §6.6.2 Trailer, RFC 9112 §6.1
// Transfer-Encoding; Keep-Alive and Proxy-* as RFC 9110 §7.6.1 lists them), plus the fields named
// by Connection.
bool IsHopByHop(std::string_view name, const std::vector<std::string>& listed) {
  static constexpr std::string_view kFixed[] = {"Connection", "Keep-Alive",        "TE",
                                                "Trailer",    "Transfer-Encoding", "Upgrade"};
  for (std::string_view fixed : kFixed) {
    if (net::EqualsIgnoreCase(name, fixed)) return true;
  }
  if (StartsWithIgnoreCase(name, "Proxy-")) return true;
  return std::any_of(listed.begin(), listed.end(),
                     [&](const std::string& l) { return net::EqualsIgnoreCase(name, l); });
}

// "127.0.0.1:53412" → "127.0.0.1"; "[::1]:53412" → "::1".
std::string_view RemoteIp(std::string_view remote) {
  if (!remote.empty() && remote.front() == '[') {
    const std::size_t close = remote.find(']');
    return close == std::string_view::npos ? remote : remote.substr(1, close - 1);
  }
  const std::size_t colon = remote.rfind(':');
  return colon == std::string_view::npos ? remote : remote.substr(0, colon);
}

// The deployment named by a Host value "<deployment>.<domain>[:port]" (ASCII case-insensitive,
// one trailing dot allowed), lower-cased; nullopt for any other host.
std::optional<std::string> HostDeployment(std::string_view host, std::string_view domain_lower) {
  host = Trim(host);
  if (host.empty() || host.front() == '[') return std::nullopt;  // IPv6 literal
  const std::size_t colon = host.rfind(':');
  if (colon != std::string_view::npos) {
    const std::string_view port = host.substr(colon + 1);
    if (!std::all_of(port.begin(), port.end(),
                     [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; })) {
      return std::nullopt;
    }
    host = host.substr(0, colon);
  }
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);
  if (host.size() < domain_lower.size() + 2) return std::nullopt;
  const std::string_view suffix = host.substr(host.size() - domain_lower.size());
  if (!net::EqualsIgnoreCase(suffix, domain_lower)) return std::nullopt;
  if (host[host.size() - domain_lower.size() - 1] != '.') return std::nullopt;
  return Lower(host.substr(0, host.size() - domain_lower.size() - 1));
}

// "/d/<deployment>/rest?q" → {deployment, "/rest?q"}; "/d/<deployment>" or "/d/<deployment>?q" →
// {deployment, "/" or "/?q"}. Works on the raw target, so the upstream sees the client's escapes.
std::optional<PathRoute> PathDeployment(std::string_view target) {
  if (target.substr(0, 3) != "/d/") return std::nullopt;
  const std::string_view rest = target.substr(3);
  const std::size_t end = rest.find_first_of("/?");
  const std::string_view name = rest.substr(0, end);
  if (name.empty()) return std::nullopt;
  PathRoute out{.name = Lower(name), .target = {}};
  if (end == std::string_view::npos) {
    out.target = "/";
  } else if (rest[end] == '?') {
    out.target = "/" + std::string(rest.substr(end));
  } else {
    out.target = std::string(rest.substr(end));
  }
  return out;
}

}  // namespace lunal::gateway::internal
