// Router: pattern registration, request-target parsing and dispatch. No I/O here, so the routing
// rules are unit-tested without sockets (router_test.cc).
#include <algorithm>
#include <exception>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "lunal/common/result.h"
#include "lunal/net/errors.h"
#include "lunal/net/server.h"

namespace lunal::net {
namespace {

// RFC 9110 §5.6.2 tchar.
bool IsTokenChar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool IsToken(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), IsTokenChar);
}

bool IsParam(std::string_view segment) {
  return segment.size() >= 2 && segment.front() == '{' && segment.back() == '}';
}

std::string_view ParamName(std::string_view segment) {
  return segment.substr(1, segment.size() - 2);
}

// "/a/b/" -> {"a", "b", ""}; the leading '/' is the caller's to check.
std::vector<std::string_view> SplitPath(std::string_view path) {
  std::vector<std::string_view> segments;
  std::size_t start = 1;
  while (true) {
    std::size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) {
      segments.push_back(path.substr(start));
      return segments;
    }
    segments.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
}

struct ParsedTarget {
  std::string path;
  std::vector<std::string> segments;  // decoded
  std::map<std::string, std::string, std::less<>> query;
};

Result<ParsedTarget> ParseTarget(std::string_view target) {
  if (target.empty() || target.front() != '/' || target.find('#') != std::string_view::npos) {
    return InvalidArgument("http.bad_target", "the request target must be an absolute path");
  }
  std::size_t question = target.find('?');
  std::string_view raw_path = target.substr(0, question);
  ParsedTarget parsed;
  std::optional<std::string> path = PercentDecode(raw_path, /*plus_as_space=*/false);
  if (!path) return InvalidArgument("http.bad_target", "bad percent escape in the path");
  parsed.path = std::move(*path);
  for (std::string_view raw : SplitPath(raw_path)) {
    // Cannot fail: the whole path decoded, and escapes never straddle a '/'.
    parsed.segments.push_back(PercentDecode(raw, false).value_or(std::string()));
  }
  if (question == std::string_view::npos) return parsed;
  std::string_view query = target.substr(question + 1);
  while (!query.empty()) {
    std::size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    std::size_t eq = pair.find('=');
    std::optional<std::string> name = PercentDecode(pair.substr(0, eq), true);
    std::optional<std::string> value =
        eq == std::string_view::npos ? std::string() : PercentDecode(pair.substr(eq + 1), true);
    if (!name || !value)
      return InvalidArgument("http.bad_target", "bad percent escape in the query");
    parsed.query.emplace(std::move(*name), std::move(*value));  // the first occurrence wins
  }
  return parsed;
}

// Whether `a` is more specific than `b`: a literal beats a parameter at the first position where
// they differ. Both have the same number of segments (they matched the same path).
bool MoreSpecific(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  for (std::size_t i = 0; i < a.size(); ++i) {
    bool a_param = IsParam(a[i]);
    if (a_param != IsParam(b[i])) return !a_param;
  }
  return false;
}

HttpResponse RunHandler(const Handler& handler, HttpRequest& request,
                        const InternalErrorHook& on_internal_error) {
  Status failure;
  try {
    return handler(request);
  } catch (const std::exception& e) {
    failure = Internal("internal.handler_exception", "handler threw: {}", e.what());
  } catch (...) {
    failure = Internal("internal.handler_exception", "handler threw a non-std::exception");
  }
  if (on_internal_error) {
    try {
      on_internal_error(request, failure);
    } catch (...) {  // NOLINT(bugprone-empty-catch): a throwing hook must not kill the server
    }
  }
  return ErrorResponse(failure);
}

}  // namespace

Status Router::Add(std::string method, std::string_view pattern, Handler handler) {
  if (!IsToken(method)) return InvalidArgument("net.bad_route", "bad method '{}'", method);
  if (!handler) return InvalidArgument("net.bad_route", "empty handler for {}", pattern);
  if (pattern.empty() || pattern.front() != '/' ||
      pattern.find_first_of("?#") != std::string_view::npos) {
    return InvalidArgument("net.bad_route", "pattern '{}' is not an absolute path", pattern);
  }
  Route route{std::move(method), {}, std::move(handler)};
  std::set<std::string_view> names;
  for (std::string_view segment : SplitPath(pattern)) {
    if (IsParam(segment)) {
      std::string_view name = ParamName(segment);
      if (name.empty() || name.find_first_of("{}/") != std::string_view::npos ||
          !names.insert(name).second) {
        return InvalidArgument("net.bad_route", "bad or repeated parameter in '{}'", pattern);
      }
    } else if (segment.find_first_of("{}") != std::string_view::npos) {
      return InvalidArgument("net.bad_route", "stray brace in '{}'", pattern);
    }
    route.segments.emplace_back(segment);
  }
  for (const Route& existing : routes_) {
    if (existing.method != route.method || existing.segments.size() != route.segments.size()) {
      continue;
    }
    bool same_shape = true;
    for (std::size_t i = 0; i < route.segments.size() && same_shape; ++i) {
      bool param = IsParam(route.segments[i]);
      same_shape = param == IsParam(existing.segments[i]) &&
                   (param || route.segments[i] == existing.segments[i]);
    }
    if (same_shape) {
      return Conflict("net.route_conflict", "{} {} overlaps an existing route", route.method,
                      pattern);
    }
  }
  routes_.push_back(std::move(route));
  return Status::Ok();
}

HttpResponse Router::Dispatch(HttpRequest& request,
                              const InternalErrorHook& on_internal_error) const {
  Result<ParsedTarget> target = ParseTarget(request.target);
  if (!target) return ErrorResponse(target.error());
  request.path = std::move(target->path);
  request.query = std::move(target->query);
  const std::vector<std::string>& segments = target->segments;

  const Route* best = nullptr;
  const Route* best_get = nullptr;  // a GET route answers HEAD when no HEAD route matches
  std::set<std::string> allowed;
  for (const Route& route : routes_) {
    if (route.segments.size() != segments.size()) continue;
    bool match = true;
    for (std::size_t i = 0; i < segments.size() && match; ++i) {
      match = IsParam(route.segments[i]) ? !segments[i].empty() : route.segments[i] == segments[i];
    }
    if (!match) continue;
    allowed.insert(route.method);
    if (route.method == "GET") allowed.insert("HEAD");
    const Route** slot = route.method == request.method                        ? &best
                         : (request.method == "HEAD" && route.method == "GET") ? &best_get
                                                                               : nullptr;
    if (slot != nullptr && (*slot == nullptr || MoreSpecific(route.segments, (*slot)->segments))) {
      *slot = &route;
    }
  }
  if (best == nullptr) best = best_get;
  if (best == nullptr) {
    if (allowed.empty()) {
      if (fallback_) {
        request.path_params.clear();
        return RunHandler(fallback_, request, on_internal_error);
      }
      return ErrorResponse(NotFound("http.not_found", "no route for {}", request.path));
    }
    std::string allow;
    for (const std::string& method : allowed) allow += (allow.empty() ? "" : ", ") + method;
    HttpResponse response =
        ErrorResponse(InvalidArgument("http.method_not_allowed", "method {} is not allowed for {}",
                                      request.method, request.path));
    response.AddHeader("Allow", std::move(allow));
    return response;
  }
  request.path_params.clear();
  for (std::size_t i = 0; i < segments.size(); ++i) {
    if (IsParam(best->segments[i])) {
      request.path_params.emplace(std::string(ParamName(best->segments[i])), segments[i]);
    }
  }
  return RunHandler(best->handler, request, on_internal_error);
}

}  // namespace lunal::net
