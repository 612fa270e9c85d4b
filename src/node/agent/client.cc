// NodeClient (client.h).
#include "lunal/node/client.h"

#include <fmt/format.h>

#include <algorithm>
#include <mutex>

#include "lunal/cds/manifest.h"
#include "lunal/net/client.h"
#include "lunal/node/http.h"

namespace lunal::node {
namespace {

Status BadAnswer(std::string_view field, std::string_view why) {
  return Malformed("node.json.bad_field", "node answer: {}: {}", field, why);
}

}  // namespace

struct NodeClient::Impl {
  NodeClientOptions options;
  // One client per kind of call: HttpClient is not thread-safe, and a long poll must not hold up
  // a launch.
  std::mutex calls_mu;
  std::unique_ptr<net::HttpClient> calls;
  std::mutex events_mu;
  std::unique_ptr<net::HttpClient> events;

  Result<Json> Send(net::HttpClient& client, std::string method, const std::string& path,
                    std::string body) {
    std::string base = options.base_url;
    while (!base.empty() && base.back() == '/') base.pop_back();
    net::HttpClientRequest req{
        .method = std::move(method), .url = base + path, .headers = {}, .body = std::move(body)};
    if (!options.token.empty())
      req.headers.emplace_back("Authorization", "Bearer " + options.token);
    return client.SendJson(std::move(req));
  }
};

NodeClient::NodeClient(NodeClientOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  const auto longest = std::max(impl_->options.request_timeout,
                                impl_->options.launch_timeout + impl_->options.request_timeout);
  impl_->calls = std::make_unique<net::HttpClient>(
      net::ClientOptions{.connect_timeout = impl_->options.connect_timeout,
                         .request_timeout = longest,
                         .tls = impl_->options.tls});
  impl_->events = std::make_unique<net::HttpClient>(net::ClientOptions{
      .connect_timeout = impl_->options.connect_timeout,
      .request_timeout =
          std::chrono::seconds(kMaxEventWaitSeconds) + impl_->options.request_timeout,
      .tls = impl_->options.tls});
}

NodeClient::~NodeClient() = default;

Result<InstanceStatus> NodeClient::Launch(const LaunchRequest& request) {
  std::lock_guard lock(impl_->calls_mu);
  LUNAL_ASSIGN_OR_RETURN(
      Json doc, impl_->Send(*impl_->calls, "POST", "/v1/node/instances", ToJson(request).dump()));
  return InstanceStatusFromJson(doc);
}

Status NodeClient::Stop(std::string_view instance_id) {
  if (!cds::IsValidName(instance_id)) {
    return InvalidArgument("node.request.bad_field", "instance_id: not a valid name");
  }
  std::lock_guard lock(impl_->calls_mu);
  auto doc =
      impl_->Send(*impl_->calls, "DELETE", fmt::format("/v1/node/instances/{}", instance_id), "");
  if (!doc.ok()) return doc.error();
  return Status::Ok();
}

Result<std::vector<InstanceStatus>> NodeClient::List() {
  std::lock_guard lock(impl_->calls_mu);
  LUNAL_ASSIGN_OR_RETURN(Json doc, impl_->Send(*impl_->calls, "GET", "/v1/node/instances", ""));
  if (!doc.is_object() || !doc.contains("instances") || !doc["instances"].is_array()) {
    return BadAnswer("instances", "expected an array");
  }
  std::vector<InstanceStatus> out;
  for (const Json& j : doc["instances"]) {
    LUNAL_ASSIGN_OR_RETURN(InstanceStatus s, InstanceStatusFromJson(j));
    out.push_back(std::move(s));
  }
  return out;
}

Result<EventBatch> NodeClient::PollEvents(std::uint64_t after, std::chrono::seconds wait) {
  const auto seconds = std::clamp<std::int64_t>(wait.count(), 0, kMaxEventWaitSeconds);
  std::lock_guard lock(impl_->events_mu);
  LUNAL_ASSIGN_OR_RETURN(
      Json doc, impl_->Send(*impl_->events, "GET",
                            fmt::format("/v1/node/events?after={}&wait={}", after, seconds), ""));
  if (!doc.is_object() || !doc.contains("events") || !doc["events"].is_array()) {
    return BadAnswer("events", "expected an array");
  }
  EventBatch batch;
  auto next = JsonUint(doc, "next");
  if (!next.ok()) return BadAnswer("next", "expected a non-negative integer");
  batch.next = *next;
  auto epoch = JsonString(doc, "epoch");
  if (!epoch.ok() || epoch->empty()) return BadAnswer("epoch", "expected a non-empty string");
  batch.epoch = std::move(*epoch);
  if (doc.contains("dropped")) {
    auto dropped = JsonUint(doc, "dropped");
    if (!dropped.ok()) return BadAnswer("dropped", "expected a non-negative integer");
    batch.dropped = *dropped;
  }
  for (const Json& j : doc["events"]) {
    LUNAL_ASSIGN_OR_RETURN(SequencedEvent e, SequencedEventFromJson(j));
    batch.events.push_back(std::move(e));
  }
  return batch;
}

}  // namespace lunal::node
