// JSON forms of the node's wire types (node.h, event_feed.h): the launch request, the instance
// status and the sequenced event, each read strictly (unknown members are errors).
#include <algorithm>
#include <functional>
#include <initializer_list>
#include <limits>

#include "lunal/node/event_feed.h"
#include "lunal/node/node.h"

namespace lunal::node {
namespace {

Status UnknownMembers(const Json& doc, std::initializer_list<std::string_view> known,
                      const std::function<Status(std::string_view)>& bad) {
  for (const auto& [key, value] : doc.items()) {
    if (std::find(known.begin(), known.end(), key) == known.end()) return bad(key);
  }
  return Status::Ok();
}

Status StatusBad(std::string_view field, std::string_view why) {
  return Malformed("node.json.bad_field", "{}: {}", field, why);
}

Status RequestBad(std::string_view field, std::string_view why) {
  return InvalidArgument("node.request.bad_field", "{}: {}", field, why);
}

}  // namespace

Result<InstanceState> InstanceStateFromName(std::string_view name) {
  for (InstanceState s : {InstanceState::kStarting, InstanceState::kRunning, InstanceState::kExited,
                          InstanceState::kStopped, InstanceState::kFailed}) {
    if (InstanceStateName(s) == name) return s;
  }
  return StatusBad("state", "not an instance state");
}

Result<InstanceStatus> InstanceStatusFromJson(const Json& doc) {
  if (!doc.is_object()) return StatusBad("instance", "expected a JSON object");
  LUNAL_RETURN_IF_ERROR(UnknownMembers(
      doc,
      {"instance_id", "tenant", "deployment", "build_hash", "state", "address", "pid", "evidence",
       "nonce", "certificate_pem", "started_at", "reason", "message"},
      [](std::string_view key) { return StatusBad(key, "unknown member"); }));
  InstanceStatus s;
  auto str = [&](std::string_view key, std::string& out, bool optional = false) -> Status {
    if (optional && !doc.contains(key)) return Status::Ok();
    auto v = JsonString(doc, key);
    if (!v.ok()) return StatusBad(key, "expected a string");
    out = std::move(*v);
    return Status::Ok();
  };
  LUNAL_RETURN_IF_ERROR(str("instance_id", s.instance_id));
  LUNAL_RETURN_IF_ERROR(str("tenant", s.tenant));
  LUNAL_RETURN_IF_ERROR(str("deployment", s.deployment));
  LUNAL_RETURN_IF_ERROR(str("build_hash", s.build_hash));
  std::string state;
  LUNAL_RETURN_IF_ERROR(str("state", state));
  LUNAL_ASSIGN_OR_RETURN(s.state, InstanceStateFromName(state));
  LUNAL_RETURN_IF_ERROR(str("address", s.address));
  auto pid = JsonInt(doc, "pid");
  if (!pid.ok() || *pid < 0 || *pid > std::numeric_limits<int>::max()) {
    return StatusBad("pid", "expected a non-negative integer");
  }
  s.pid = static_cast<int>(*pid);
  if (!doc.contains("evidence")) return StatusBad("evidence", "missing");
  s.evidence = doc["evidence"];
  if (!s.evidence.is_null() && !s.evidence.is_object()) {
    return StatusBad("evidence", "expected an object or null");
  }
  LUNAL_RETURN_IF_ERROR(str("nonce", s.nonce));
  LUNAL_RETURN_IF_ERROR(str("certificate_pem", s.certificate_pem));
  std::string started;
  LUNAL_RETURN_IF_ERROR(str("started_at", started));
  auto at = ParseRfc3339(started);
  if (!at.ok()) return StatusBad("started_at", "expected an RFC 3339 time");
  s.started_at = *at;
  LUNAL_RETURN_IF_ERROR(str("reason", s.reason, true));
  LUNAL_RETURN_IF_ERROR(str("message", s.message, true));
  return s;
}

Json ToJson(const LaunchRequest& r) {
  Json out = {{"tenant", r.tenant},
              {"deployment", r.deployment},
              {"instance_id", r.instance_id},
              {"build_hash", r.build_hash},
              {"manifest_json", r.manifest_json},
              {"artifact", r.artifact.string()}};
  if (!r.env.empty()) out["env"] = r.env;
  return out;
}

Result<LaunchRequest> LaunchRequestFromJson(const Json& doc) {
  if (!doc.is_object()) return RequestBad("body", "expected a JSON object");
  LUNAL_RETURN_IF_ERROR(UnknownMembers(
      doc,
      {"tenant", "deployment", "instance_id", "build_hash", "artifact", "manifest_json", "env"},
      [](std::string_view key) { return RequestBad(key, "unknown member"); }));
  LaunchRequest r;
  auto str = [&](std::string_view key, std::string& out) -> Status {
    auto v = JsonString(doc, key);
    if (!v.ok()) return RequestBad(key, "expected a string");
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
  if (doc.contains("env")) {
    const Json& env = doc["env"];
    if (!env.is_object()) return RequestBad("env", "expected an object of strings");
    for (const auto& [k, v] : env.items()) {
      if (!v.is_string()) return RequestBad("env", "expected an object of strings");
      r.env[k] = v.get<std::string>();
    }
  }
  return r;
}

std::string_view NodeEventKindName(NodeEvent::Kind kind) {
  switch (kind) {
    case NodeEvent::Kind::kLaunchRefused:
      return "launch_refused";
    case NodeEvent::Kind::kReady:
      return "ready";
    case NodeEvent::Kind::kExited:
      return "exited";
    case NodeEvent::Kind::kStopped:
      return "stopped";
    case NodeEvent::Kind::kLog:
      return "log";
  }
  return "unknown";
}

Json ToJson(const SequencedEvent& e) {
  return Json{{"seq", e.seq},
              {"kind", NodeEventKindName(e.event.kind)},
              {"instance", ToJson(e.event.instance)},
              {"stream", e.event.stream},
              {"line", e.event.line}};
}

Result<SequencedEvent> SequencedEventFromJson(const Json& doc) {
  if (!doc.is_object()) return StatusBad("event", "expected a JSON object");
  LUNAL_RETURN_IF_ERROR(
      UnknownMembers(doc, {"seq", "kind", "instance", "stream", "line"},
                     [](std::string_view key) { return StatusBad(key, "unknown member"); }));
  SequencedEvent out;
  auto seq = JsonUint(doc, "seq");
  if (!seq.ok()) return StatusBad("seq", "expected a non-negative integer");
  out.seq = *seq;
  auto kind = JsonString(doc, "kind");
  if (!kind.ok()) return StatusBad("kind", "expected a string");
  bool known = false;
  for (NodeEvent::Kind k :
       {NodeEvent::Kind::kLaunchRefused, NodeEvent::Kind::kReady, NodeEvent::Kind::kExited,
        NodeEvent::Kind::kStopped, NodeEvent::Kind::kLog}) {
    if (NodeEventKindName(k) == *kind) {
      out.event.kind = k;
      known = true;
    }
  }
  if (!known) return StatusBad("kind", "not an event kind");
  if (!doc.contains("instance")) return StatusBad("instance", "missing");
  LUNAL_ASSIGN_OR_RETURN(out.event.instance, InstanceStatusFromJson(doc["instance"]));
  auto stream = JsonString(doc, "stream");
  auto line = JsonString(doc, "line");
  if (!stream.ok()) return StatusBad("stream", "expected a string");
  if (!line.ok()) return StatusBad("line", "expected a string");
  out.event.stream = std::move(*stream);
  out.event.line = std::move(*line);
  return out;
}

}  // namespace lunal::node
