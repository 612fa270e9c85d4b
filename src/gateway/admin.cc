// The gateway's admin API (admin.h, docs/protocols/gateway.md "Admin API").
#include "lunal/gateway/admin.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <utility>

#include "lunal/common/bytes.h"
#include "lunal/crypto/digest.h"
#include "lunal/net/auth.h"
#include "lunal/net/errors.h"
#include "lunal/net/http.h"

namespace lunal::gateway {
namespace {

constexpr std::string_view kRoutesPath = "/v1/gateway/routes";

Status BadField(std::string_view field, std::string_view why) {
  return InvalidArgument("gateway.admin.bad_field", "{}: {}", field, why);
}

Result<std::string> StringMember(const Json& object, std::string_view key, std::string_view path) {
  auto it = object.find(key);
  if (it == object.end()) return BadField(JsonPath(path, key), "required");
  if (!it->is_string()) return BadField(JsonPath(path, key), "expected a string");
  return it->get<std::string>();
}

Status OnlyMembers(const Json& object, std::initializer_list<std::string_view> known,
                   std::string_view path) {
  for (const auto& [key, value] : object.items()) {
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      return BadField(JsonPath(path, key), "unknown member");
    }
  }
  return Status::Ok();
}

// Percent-encodes everything but RFC 3986 §2.3 unreserved characters, for a path segment.
std::string EncodeSegment(std::string_view s) {
  std::string out;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += c;
    } else {
      out += fmt::format("%{:02X}", u);
    }
  }
  return out;
}

}  // namespace

Json RouteToJson(const Route& route) {
  Json backends = Json::array();
  for (const Backend& b : route.backends) {
    backends.push_back({{"instance_id", b.instance_id}, {"address", b.address}});
  }
  return Json{{"tenant", route.tenant},
              {"deployment", route.deployment},
              {"build_hashes", route.build_hashes},
              {"allow_simulated", route.allow_simulated},
              {"backends", std::move(backends)}};
}

Result<Route> ParseRouteJson(const Json& body, std::string_view deployment) {
  if (!body.is_object()) return BadField("body", "expected a JSON object");
  LUNAL_RETURN_IF_ERROR(OnlyMembers(
      body, {"tenant", "deployment", "build_hashes", "allow_simulated", "backends"}, ""));
  Route route;
  route.deployment = std::string(deployment);
  if (auto it = body.find("deployment"); it != body.end()) {
    if (!it->is_string() || it->get<std::string>() != deployment) {
      return BadField("deployment", "must equal the path's deployment");
    }
  }
  LUNAL_ASSIGN_OR_RETURN(route.tenant, StringMember(body, "tenant", ""));
  auto hashes = body.find("build_hashes");
  if (hashes == body.end() || !hashes->is_array()) {
    return BadField("build_hashes", "expected an array of strings");
  }
  for (std::size_t i = 0; i < hashes->size(); ++i) {
    if (!(*hashes)[i].is_string()) {
      return BadField(JsonPath("build_hashes", i), "expected a string");
    }
    route.build_hashes.push_back((*hashes)[i].get<std::string>());
  }
  if (auto it = body.find("allow_simulated"); it != body.end()) {
    if (!it->is_boolean()) return BadField("allow_simulated", "expected true or false");
    route.allow_simulated = it->get<bool>();
  }
  auto backends = body.find("backends");
  if (backends == body.end() || !backends->is_array()) {
    return BadField("backends", "expected an array of objects");
  }
  for (std::size_t i = 0; i < backends->size(); ++i) {
    const Json& b = (*backends)[i];
    const std::string path = JsonPath("backends", i);
    if (!b.is_object()) return BadField(path, "expected an object");
    LUNAL_RETURN_IF_ERROR(OnlyMembers(b, {"instance_id", "address"}, path));
    Backend backend;
    LUNAL_ASSIGN_OR_RETURN(backend.instance_id, StringMember(b, "instance_id", path));
    LUNAL_ASSIGN_OR_RETURN(backend.address, StringMember(b, "address", path));
    route.backends.push_back(std::move(backend));
  }
  return route;
}

Status AddGatewayAdminRoutes(net::Router& router, Gateway& gateway, std::string token) {
  LUNAL_ASSIGN_OR_RETURN(
      net::Authorizer authorize,
      net::BearerAuthorizer(token, "gateway.admin.unauthenticated", "gateway.admin.bad_options"));
  return AddGatewayAdminRoutes(router, gateway, std::move(authorize));
}

Status AddGatewayAdminRoutes(net::Router& router, Gateway& gateway, net::Authorizer authorize) {
  if (!authorize) return InvalidArgument("gateway.admin.bad_options", "no authorizer");
  auto auth = std::make_shared<const net::Authorizer>(std::move(authorize));
  // Every handler authorizes before looking at anything else in the request.
  auto guarded = [auth](auto handler) {
    return [auth, handler = std::move(handler)](net::HttpRequest& req) -> net::HttpResponse {
      if (Status s = (*auth)(req); !s.ok()) return net::ErrorResponse(s);
      return handler(req);
    };
  };
  Gateway* gw = &gateway;
  LUNAL_RETURN_IF_ERROR(router.Add(
      "PUT", std::string(kRoutesPath) + "/{deployment}", guarded([gw](net::HttpRequest& req) {
        auto body = ParseJson(req.body);
        if (!body.ok()) return net::ErrorResponse(BadField("body", body.error().message()));
        auto route = ParseRouteJson(*body, req.PathParam("deployment"));
        if (!route.ok()) return net::ErrorResponse(route.error());
        // The gateway would install an invalid route and answer 503 for it; the admin API
        // refuses it, so the caller learns at once and the old route keeps serving.
        if (Status s = ValidateRoute(*route); !s.ok()) {
          return net::ErrorResponse(
              BadField("route", fmt::format("{} ({})", s.message(), s.reason())));
        }
        Json installed = RouteToJson(*route);
        gw->SetRoute(std::move(*route));
        return net::HttpResponse::Json(200, installed);
      })));
  LUNAL_RETURN_IF_ERROR(router.Add(
      "DELETE", std::string(kRoutesPath) + "/{deployment}", guarded([gw](net::HttpRequest& req) {
        const std::string deployment(req.PathParam("deployment"));
        bool removed = false;
        for (const Route& r : gw->Routes()) {
          removed = removed || net::EqualsIgnoreCase(r.deployment, deployment);
        }
        gw->RemoveRoute(deployment);
        return net::HttpResponse::Json(200, {{"deployment", deployment}, {"removed", removed}});
      })));
  LUNAL_RETURN_IF_ERROR(
      router.Add("GET", kRoutesPath, guarded([gw](net::HttpRequest&) {
                   Json routes = Json::array();
                   for (const Route& r : gw->Routes()) routes.push_back(RouteToJson(r));
                   return net::HttpResponse::Json(200, {{"routes", std::move(routes)}});
                 })));
  LUNAL_RETURN_IF_ERROR(router.Add("GET", "/v1/gateway/metrics", guarded([gw](net::HttpRequest&) {
                                     return net::HttpResponse::Json(200, gw->Metrics());
                                   })));
  return Status::Ok();
}

AdminClient::AdminClient(AdminClientOptions options)
    : options_(std::move(options)), client_(std::make_unique<net::HttpClient>(options_.http)) {
  while (!options_.base_url.empty() && options_.base_url.back() == '/')
    options_.base_url.pop_back();
}

AdminClient::~AdminClient() = default;

Result<Json> AdminClient::Call(std::string_view method, std::string_view path, const Json& body) {
  net::HttpClientRequest request{.method = std::string(method),
                                 .url = options_.base_url + std::string(path),
                                 .headers = {},
                                 .body = body.is_null() ? std::string() : body.dump()};
  if (!options_.token.empty())
    request.headers.emplace_back("Authorization", "Bearer " + options_.token);
  std::lock_guard lock(mu_);
  return client_->SendJson(std::move(request));
}

Status AdminClient::SetRoute(const Route& route) {
  return Call("PUT", std::string(kRoutesPath) + "/" + EncodeSegment(route.deployment),
              RouteToJson(route))
      .status();
}

Status AdminClient::RemoveRoute(std::string_view deployment) {
  return Call("DELETE", std::string(kRoutesPath) + "/" + EncodeSegment(deployment), nullptr)
      .status();
}

Result<std::vector<Route>> AdminClient::Routes() {
  LUNAL_ASSIGN_OR_RETURN(Json answer, Call("GET", kRoutesPath, nullptr));
  auto list = answer.find("routes");
  if (!answer.is_object() || list == answer.end() || !list->is_array()) {
    return Malformed("gateway.admin.bad_response", "GET {}: no \"routes\" array", kRoutesPath);
  }
  std::vector<Route> routes;
  for (const Json& r : *list) {
    const Json* name = r.is_object() && r.contains("deployment") ? &r["deployment"] : nullptr;
    if (name == nullptr || !name->is_string()) {
      return Malformed("gateway.admin.bad_response", "GET {}: a route without a deployment",
                       kRoutesPath);
    }
    auto route = ParseRouteJson(r, name->get<std::string>());
    if (!route.ok()) {
      return Malformed("gateway.admin.bad_response", "GET {}: {}", kRoutesPath,
                       route.error().message());
    }
    routes.push_back(std::move(*route));
  }
  return routes;
}

Result<Json> AdminClient::Metrics() { return Call("GET", "/v1/gateway/metrics", nullptr); }

}  // namespace lunal::gateway
