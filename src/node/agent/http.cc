// The node agent's HTTP API (http.h).
#include "lunal/node/http.h"

#include <memory>

#include "lunal/common/bytes.h"
#include "lunal/common/json.h"
#include "lunal/common/log.h"
#include "lunal/crypto/digest.h"
#include "lunal/net/errors.h"

namespace lunal::node {
namespace {

using net::HttpRequest;
using net::HttpResponse;

// RFC 6750 §2.1. Both sides are hashed first so the comparison takes the same time whatever the
// lengths.
Status Authorize(const HttpRequest& req, const std::array<std::uint8_t, 32>& expected) {
  auto header = req.Header("Authorization");
  std::string_view presented;
  if (header && header->size() > 7 && net::EqualsIgnoreCase(header->substr(0, 7), "Bearer ")) {
    presented = header->substr(7);
  }
  const auto digest = crypto::Sha256(AsBytes(presented));
  if (presented.empty() || !ConstantTimeEqual(digest, expected)) {
    return Unauthenticated("node.auth.unauthenticated",
                           "a valid \"Authorization: Bearer <token>\" is required");
  }
  return Status::Ok();
}

Status BadField(std::string_view field, std::string_view why) {
  return InvalidArgument("node.request.bad_field", "{}: {}", field, why);
}

Result<LaunchRequest> ParseLaunch(std::string_view body) {
  auto doc = ParseJson(body);
  if (!doc.ok() || !doc->is_object()) return BadField("body", "expected a JSON object");
  static constexpr std::string_view kKnown[] = {
      "tenant", "deployment", "instance_id", "build_hash", "artifact", "manifest_json", "env"};
  for (const auto& [key, value] : doc->items()) {
    if (std::find(std::begin(kKnown), std::end(kKnown), key) == std::end(kKnown)) {
      return BadField(key, "unknown member");
    }
  }
  LaunchRequest r;
  auto str = [&](std::string_view key, std::string& out) -> Status {
    auto v = JsonString(*doc, key);
    if (!v.ok()) return BadField(key, "expected a string");
    out = std::move(*v);
    return Status::Ok();
  };
  LUNAL_RETURN_IF_ERROR(str("tenant", r.tenant));
  LUNAL_RETURN_IF_ERROR(str("deployment", r.deployment));
  LUNAL_RETURN_IF_ERROR(str("instance_id", r.instance_id));
  LUNAL_RETURN_IF_ERROR(str("build_hash", r.build_hash));
  LUNAL_RETURN_IF_ERROR(str("manifest_json", r.manifest_json));
  std::string artifact;
  LUNAL_RETURN_IF_ERROR(str("artifact", artifact));
  r.artifact = artifact;
  if (doc->contains("env")) {
    const Json& env = (*doc)["env"];
    if (!env.is_object()) return BadField("env", "expected an object of strings");
    for (const auto& [k, v] : env.items()) {
      if (!v.is_string()) return BadField("env", "expected an object of strings");
      r.env[k] = v.get<std::string>();
    }
  }
  return r;
}

HttpResponse Error(const HttpRequest& req, const Status& s) {
  if (s.code() == Code::kInternal) {
    log::Error("node.http.internal", {{"path", req.path}, {"status", s.ToString()}});
  }
  return net::ErrorResponse(s);
}

}  // namespace

Status AddNodeRoutes(net::Router& router, NodeAgent& agent, std::string token) {
  if (token.empty()) return InvalidArgument("node.config.bad_option", "the API token is empty");
  const auto expected = crypto::Sha256(AsBytes(token));
  LUNAL_RETURN_IF_ERROR(
      router.Add("POST", "/v1/node/instances", [&agent, expected](HttpRequest& req) {
        if (Status s = Authorize(req, expected); !s.ok()) return Error(req, s);
        auto request = ParseLaunch(req.body);
        if (!request.ok()) return Error(req, request.error());
        auto launched = agent.Launch(*request);
        if (!launched.ok()) return Error(req, launched.error());
        return HttpResponse::Json(201, ToJson(*launched));
      }));
  LUNAL_RETURN_IF_ERROR(
      router.Add("GET", "/v1/node/instances", [&agent, expected](HttpRequest& req) {
        if (Status s = Authorize(req, expected); !s.ok()) return Error(req, s);
        Json list = Json::array();
        for (const InstanceStatus& s : agent.List()) list.push_back(ToJson(s));
        return HttpResponse::Json(200, Json{{"instances", std::move(list)}});
      }));
  LUNAL_RETURN_IF_ERROR(
      router.Add("DELETE", "/v1/node/instances/{id}", [&agent, expected](HttpRequest& req) {
        if (Status s = Authorize(req, expected); !s.ok()) return Error(req, s);
        const std::string id(req.PathParam("id"));
        if (Status s = agent.Stop(id); !s.ok()) return Error(req, s);
        return HttpResponse::Json(200, Json{{"stopped", id}});
      }));
  return Status::Ok();
}

}  // namespace lunal::node
