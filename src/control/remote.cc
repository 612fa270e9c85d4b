#include "lunal/control/remote.h"

#include <fmt/format.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <sstream>
#include <thread>
#include <utility>

#include "lunal/cds/manifest.h"
#include "lunal/common/files.h"
#include "lunal/common/json.h"
#include "lunal/common/log.h"
#include "lunal/crypto/keys.h"
#include "lunal/net/client.h"

namespace lunal::control {

// ---- RemoteNode -------------------------------------------------------------------------------

namespace {
constexpr std::chrono::seconds kPollWait{25};  // the node's maximum (client.h)
constexpr std::chrono::seconds kBackoff{1};
}  // namespace

// Shared between RemoteNode and its pump thread: the thread keeps it alive, so the destructor can
// leave a long poll in flight (detaching the thread) instead of waiting up to 25 s for it. The
// callback is cleared under `mu` before the destructor returns, so no event reaches a control
// plane that is gone.
struct RemoteNode::Pump {
  Pump(node::NodeClientOptions options, std::filesystem::path cursor)
      : client(std::move(options)), cursor_file(std::move(cursor)) {}
  node::NodeClient client;                  // its own connection: the long poll holds up no launch
  const std::filesystem::path cursor_file;  // empty: no saved place
  std::mutex mu;
  std::condition_variable cv;
  bool stopping = false;                                 // guarded by mu
  std::function<void(const node::NodeEvent&)> on_event;  // guarded by mu

  // The saved place, "<epoch> <next>"; {"", 0} when there is none.
  std::pair<std::string, std::uint64_t> LoadCursor() const {
    if (cursor_file.empty()) return {"", 0};
    auto text = ReadFileIfExists(cursor_file, {.max_bytes = 256});
    if (!text.ok() || !text->has_value()) {
      if (!text.ok()) {
        log::Warn("control.node_events.cursor_unreadable", {{"status", text.error().ToString()}});
      }
      return {"", 0};
    }
    std::istringstream in(**text);
    std::string epoch;
    std::uint64_t next = 0;
    if (!(in >> epoch >> next)) {
      log::Warn("control.node_events.cursor_unreadable", {{"file", cursor_file.string()}});
      return {"", 0};
    }
    return {epoch, next};
  }

  void SaveCursor(const std::string& epoch, std::uint64_t next) const {
    if (cursor_file.empty()) return;
    Status s = WriteFileAtomically(cursor_file, fmt::format("{} {}\n", epoch, next), 0600);
    if (!s.ok()) log::Warn("control.node_events.cursor_unsaved", {{"status", s.ToString()}});
  }

  static void Run(const std::shared_ptr<Pump>& self) {
    // From the saved place, else from the oldest event the node holds (OnNodeEvent ignores
    // instances it does not know).
    auto [epoch, after] = self->LoadCursor();
    while (true) {
      {
        std::lock_guard lock(self->mu);
        if (self->stopping) return;
      }
      auto batch = self->client.PollEvents(after, kPollWait);
      std::unique_lock lock(self->mu);
      if (self->stopping) return;
      if (!batch.ok()) {
        log::Warn("control.node_events.poll_failed", {{"status", batch.error().ToString()}});
        self->cv.wait_for(lock, kBackoff, [&] { return self->stopping; });
        continue;
      }
      if (batch->epoch != epoch) {
        // Another node process than the saved place's: its numbers started again at 1.
        const bool resumed = after != 0;
        epoch = batch->epoch;
        if (resumed) {
          log::Info("control.node_events.node_restarted", {{"epoch", epoch}});
          after = 0;
          continue;
        }
      }
      if (batch->dropped > 0) {
        log::Warn("control.node_events.dropped",
                  {{"count", static_cast<std::int64_t>(batch->dropped)}});
      }
      for (const auto& e : batch->events) {
        if (self->on_event) self->on_event(e.event);
      }
      if (batch->next != after) self->SaveCursor(epoch, batch->next);
      after = batch->next;
    }
  }
};

RemoteNode::RemoteNode(node::NodeClientOptions options) : options_(options), client_(options) {}

void RemoteNode::FollowEvents(std::function<void(const node::NodeEvent&)> on_event,
                              std::filesystem::path cursor_file) {
  if (pump_ || !on_event) return;
  pump_ = std::make_shared<Pump>(options_, std::move(cursor_file));
  pump_->on_event = std::move(on_event);
  std::thread([pump = pump_] { Pump::Run(pump); }).detach();
}

RemoteNode::~RemoteNode() { StopFollowing(); }

void RemoteNode::StopFollowing() {
  if (!pump_) return;
  std::lock_guard lock(pump_->mu);  // waits for a callback in progress
  pump_->stopping = true;
  pump_->on_event = nullptr;
  pump_->cv.notify_all();
}

Result<node::InstanceStatus> RemoteNode::Launch(const node::LaunchRequest& request) {
  return client_.Launch(request);
}

Status RemoteNode::Stop(std::string_view instance_id) { return client_.Stop(instance_id); }

// ---- RemoteRoutes -----------------------------------------------------------------------------

RemoteRoutes::RemoteRoutes(gateway::AdminClientOptions options) : client_(std::move(options)) {}

void RemoteRoutes::SetRoute(gateway::Route route) {
  if (Status s = client_.SetRoute(route); !s.ok()) {
    log::Error("control.routes.set_failed",
               {{"deployment", route.deployment}, {"status", s.ToString()}});
  }
}

void RemoteRoutes::RemoveRoute(std::string_view deployment) {
  if (Status s = client_.RemoveRoute(deployment); !s.ok()) {
    log::Error("control.routes.remove_failed",
               {{"deployment", std::string(deployment)}, {"status", s.ToString()}});
  }
}

// ---- ListedByOperator -------------------------------------------------------------------------

struct ListedByOperator::Impl {
  std::string cds_url;
  crypto::PublicKey operator_key;
};

ListedByOperator::ListedByOperator(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ListedByOperator::~ListedByOperator() = default;

Result<std::unique_ptr<ListedByOperator>> ListedByOperator::Create(
    std::string cds_url, std::string_view operator_key_pem) {
  auto key = crypto::PublicKey::FromPem(operator_key_pem);
  if (!key.ok()) {
    return InvalidArgument("control.allow_list.bad_key", "the operator public key: {}",
                           key.error().ToString());
  }
  while (!cds_url.empty() && cds_url.back() == '/') cds_url.pop_back();
  auto impl = std::unique_ptr<Impl>(new Impl{std::move(cds_url), std::move(*key)});
  return std::unique_ptr<ListedByOperator>(new ListedByOperator(std::move(impl)));
}

// docs/protocols/cds.md §3: GET /v1/cds/manifest → {"active": {"version", "envelope"}|null, …}.
// The CDS is trusted only to deliver the list: the envelope is verified against the pinned key,
// exactly as the node does before it runs anything.
Status ListedByOperator::Allow(std::string_view tenant, std::string_view deployment,
                               std::string_view build_hash) {
  const std::string url = impl_->cds_url + "/v1/cds/manifest";
  net::HttpClient client({.request_timeout = std::chrono::seconds(10)});
  auto doc = client.SendJson("GET", url);
  if (!doc.ok()) {
    return Unavailable("control.allow_list.unavailable", "GET {}: {}", url, doc.error().ToString());
  }
  const std::string hint = fmt::format(
      "the operator must sign an allow-list version naming build hash {} for {}/{} and install "
      "it at {} (PUT /v1/cds/manifest); then deploy again",
      build_hash, tenant, deployment, impl_->cds_url);
  if (!doc->is_object() || !(*doc)["active"].is_object()) {
    return PolicyViolation("control.allow_list.not_listed", "the CDS has no allow-list yet: {}",
                           hint);
  }
  const Json& env = (*doc)["active"]["envelope"];
  const std::string envelope = env.is_string() ? env.get<std::string>() : env.dump();
  LUNAL_ASSIGN_OR_RETURN(cds::VerifiedManifest verified,
                         cds::VerifyManifestEnvelope(envelope, impl_->operator_key));
  if (const cds::AllowListEntry* entry = verified.list.Find(tenant, deployment)) {
    for (const auto& h : entry->build_hashes) {
      if (h == build_hash) return Status();
    }
  }
  return PolicyViolation("control.allow_list.not_listed",
                         "allow-list version {} does not name {} for {}/{}: {}",
                         verified.list.version, build_hash, tenant, deployment, hint);
}

}  // namespace lunal::control
