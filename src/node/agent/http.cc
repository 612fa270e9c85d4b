// The node agent's HTTP API (http.h).
#include "lunal/node/http.h"

#include <fmt/format.h>

#include <charconv>
#include <limits>
#include <memory>

#include "lunal/common/bytes.h"
#include "lunal/common/json.h"
#include "lunal/common/log.h"
#include "lunal/crypto/digest.h"
#include "lunal/net/auth.h"
#include "lunal/net/errors.h"

namespace lunal::node {
namespace {

using net::HttpRequest;
using net::HttpResponse;

Status BadField(std::string_view field, std::string_view why) {
  return InvalidArgument("node.request.bad_field", "{}: {}", field, why);
}

Result<LaunchRequest> ParseLaunch(std::string_view body) {
  auto doc = ParseJson(body);
  if (!doc.ok()) return BadField("body", "expected a JSON object");
  return LaunchRequestFromJson(*doc);
}

// A query parameter that must be a decimal integer in [0, max]; `fallback` when absent.
Result<std::uint64_t> QueryNumber(const HttpRequest& req, std::string_view name,
                                  std::uint64_t fallback, std::uint64_t max) {
  auto text = req.Query(name);
  if (!text) return fallback;
  std::uint64_t value = 0;
  const char* end = text->data() + text->size();
  auto [ptr, ec] = std::from_chars(text->data(), end, value);
  if (text->empty() || ec != std::errc() || ptr != end || value > max) {
    return BadField(name, fmt::format("expected an integer in [0, {}]", max));
  }
  return value;
}

HttpResponse Error(const HttpRequest& req, const Status& s) {
  if (s.code() == Code::kInternal) {
    log::Error("node.http.internal", {{"path", req.path}, {"status", s.ToString()}});
  }
  return net::ErrorResponse(s);
}

}  // namespace

Status AddNodeRoutes(net::Router& router, NodeAgent& agent, std::string token) {
  return AddNodeRoutes(router, agent, std::move(token), nullptr);
}

Status AddNodeRoutes(net::Router& router, NodeAgent& agent, std::string token, EventFeed* events) {
  LUNAL_ASSIGN_OR_RETURN(
      net::Authorizer authorize,
      net::BearerAuthorizer(token, "node.auth.unauthenticated", "node.config.bad_option"));
  return AddNodeRoutes(router, agent, std::move(authorize), events);
}

Status AddNodeRoutes(net::Router& router, NodeAgent& agent, net::Authorizer authorize,
                     EventFeed* events) {
  if (!authorize) return InvalidArgument("node.config.bad_option", "no authorizer");
  // Every handler authorizes before looking at anything else in the request.
  auto auth = std::make_shared<const net::Authorizer>(std::move(authorize));
  LUNAL_RETURN_IF_ERROR(router.Add("POST", "/v1/node/instances", [&agent, auth](HttpRequest& req) {
    if (Status s = (*auth)(req); !s.ok()) return Error(req, s);
    auto request = ParseLaunch(req.body);
    if (!request.ok()) return Error(req, request.error());
    auto launched = agent.Launch(*request);
    if (!launched.ok()) return Error(req, launched.error());
    return HttpResponse::Json(201, ToJson(*launched));
  }));
  LUNAL_RETURN_IF_ERROR(router.Add("GET", "/v1/node/instances", [&agent, auth](HttpRequest& req) {
    if (Status s = (*auth)(req); !s.ok()) return Error(req, s);
    Json list = Json::array();
    for (const InstanceStatus& s : agent.List()) list.push_back(ToJson(s));
    return HttpResponse::Json(200, Json{{"instances", std::move(list)}});
  }));
  LUNAL_RETURN_IF_ERROR(
      router.Add("DELETE", "/v1/node/instances/{id}", [&agent, auth](HttpRequest& req) {
        if (Status s = (*auth)(req); !s.ok()) return Error(req, s);
        const std::string id(req.PathParam("id"));
        if (Status s = agent.Stop(id); !s.ok()) return Error(req, s);
        return HttpResponse::Json(200, Json{{"stopped", id}});
      }));
  if (events == nullptr) return Status::Ok();
  LUNAL_RETURN_IF_ERROR(router.Add("GET", "/v1/node/events", [events, auth](HttpRequest& req) {
    if (Status s = (*auth)(req); !s.ok()) return Error(req, s);
    auto after = QueryNumber(req, "after", 0, std::numeric_limits<std::uint64_t>::max());
    if (!after.ok()) return Error(req, after.error());
    auto wait = QueryNumber(req, "wait", 0, kMaxEventWaitSeconds);
    if (!wait.ok()) return Error(req, wait.error());
    EventBatch batch = events->Poll(*after, std::chrono::seconds(*wait));
    Json list = Json::array();
    for (const SequencedEvent& e : batch.events) list.push_back(ToJson(e));
    Json out = {{"events", std::move(list)}, {"next", batch.next}, {"epoch", batch.epoch}};
    if (batch.dropped > 0) out["dropped"] = batch.dropped;
    return HttpResponse::Json(200, out);
  }));
  return Status::Ok();
}

}  // namespace lunal::node
