// The /v1 routes (/tmp/api.md; docs/api/openapi.yaml, tag "control"). Every handler
// authenticates the bearer token first, and every deployment lookup goes through Owned(), which
// answers another tenant's deployment exactly as a missing one.
#include <charconv>
#include <fstream>
#include <sstream>

#include "impl.h"
#include "lunal/build/pipeline.h"
#include "lunal/cds/manifest.h"
#include "lunal/common/encoding.h"
#include "lunal/crypto/digest.h"
#include "lunal/crypto/random.h"
#include "lunal/net/auth.h"
#include "lunal/net/errors.h"
#include "lunal/sign/allowed_signers.h"
#include "lunal/sign/sshsig.h"

namespace lunal::control {

namespace fs = std::filesystem;
using internal::DeploymentRow;
using internal::InstanceRow;
using internal::ProjectRow;
using internal::TenantRow;
using net::HttpRequest;
using net::HttpResponse;

namespace {

constexpr std::int64_t kMaxWaitSeconds = 25;
constexpr std::int64_t kPageLimit = 1000;

Json NullIfEmpty(const std::string& s) { return s.empty() ? Json(nullptr) : Json(s); }

Json InstanceJson(const InstanceRow& i) {
  return {{"id", i.id},
          {"state", i.state},
          {"address", i.address},
          {"build_hash", i.build_hash},
          {"started_at", FormatRfc3339(i.started_at)},
          {"reason", NullIfEmpty(i.reason)}};
}

Result<std::int64_t> QueryInt(const HttpRequest& req, std::string_view name, std::int64_t dflt,
                              std::int64_t min, std::int64_t max) {
  auto text = req.Query(name);
  if (!text || text->empty()) return dflt;
  std::int64_t v = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), v);
  if (ec != std::errc() || end != text->data() + text->size()) {
    return InvalidArgument("control.request.bad_query", "{} must be an integer", name);
  }
  return std::clamp(v, min, max);
}

Result<std::string> ReadText(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Unavailable("control.state.io", "cannot read {}", path.filename().string());
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) {
    s.remove_suffix(1);
  }
  return s;
}

// A handler that returns Result<HttpResponse>; failures become Lunal's JSON error body.
template <typename F>
net::Handler Wrap(F f) {
  return [f = std::move(f)](HttpRequest& req) -> HttpResponse {
    Result<HttpResponse> r = f(req);
    if (!r.ok()) return net::ErrorResponse(r.error());
    return std::move(*r);
  };
}

}  // namespace

Result<TenantRow> ControlPlane::Impl::Authenticate(const HttpRequest& req) {
  const std::string_view token = net::BearerToken(req);
  if (token.empty()) {
    return Unauthenticated("control.auth.unauthenticated", "a bearer token is required");
  }
  LUNAL_ASSIGN_OR_RETURN(auto tenant, store->TenantForToken(TokenHash(token)));
  if (!tenant) return Unauthenticated("control.auth.unauthenticated", "unknown token");
  return *tenant;
}

// The only way handlers reach a deployment: another tenant's is answered exactly as a missing one.
Result<DeploymentRow> ControlPlane::Impl::Owned(const TenantRow& t, std::string_view name) {
  LUNAL_ASSIGN_OR_RETURN(auto d, store->GetDeployment(name));
  if (!d || d->tenant != t.name) {
    return NotFound("control.deployment.not_found", "no deployment {}", name);
  }
  return *d;
}

Result<Json> ControlPlane::Impl::DeploymentToJson(const DeploymentRow& d) {
  LUNAL_ASSIGN_OR_RETURN(auto instances, store->Instances(d.name));
  Json list = Json::array();
  for (const auto& i : instances) {
    if (i.state == kStarting || i.state == kRunning) list.push_back(InstanceJson(i));
  }
  bool routed = d.state != kDeleted && !options.gateway_url.empty();
  return Json{{"id", d.name},
              {"name", d.name},
              {"tenant", d.tenant},
              {"state", d.state},
              {"reason", NullIfEmpty(d.reason)},
              {"message", NullIfEmpty(d.message)},
              {"project", NullIfEmpty(d.project)},
              {"environment", d.environment},
              {"branch", NullIfEmpty(d.branch)},
              {"build_hash", NullIfEmpty(d.build_hash)},
              {"url", routed ? Json(DeploymentUrl(d.name)) : Json(nullptr)},
              {"path_url", routed ? Json(DeploymentPathUrl(d.name)) : Json(nullptr)},
              {"instances_desired", d.instances_desired},
              {"instances", list},
              {"attestation", VerdictJson(d.name)},
              {"created_at", FormatRfc3339(d.created_at)},
              {"updated_at", FormatRfc3339(d.updated_at)}};
}

// Waits (up to `wait` seconds, real time) until `query` returns something or we stop.
template <typename F>
auto ControlPlane::Impl::LongPoll(std::int64_t wait, F query) -> decltype(query()) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(wait);
  while (true) {
    std::uint64_t seen;
    {
      std::lock_guard lock(notify_mu);
      seen = generation;
    }
    auto rows = query();
    if (!rows.ok() || !rows->empty() || stopping.load() ||
        std::chrono::steady_clock::now() >= deadline) {
      return rows;
    }
    std::unique_lock lock(notify_mu);
    notify_cv.wait_until(lock, deadline, [&] { return generation != seen || stopping.load(); });
  }
}

Result<HttpResponse> ControlPlane::Impl::HandleUpload(HttpRequest& req) {
  LUNAL_ASSIGN_OR_RETURN(TenantRow t, Authenticate(req));
  if (req.body.size() > options.max_upload_bytes) {
    return ResourceExhausted("http.body_too_large", "an upload is at most {} bytes",
                             options.max_upload_bytes);
  }
  if (req.body.empty()) return InvalidArgument("control.upload.empty", "the body is empty");
  internal::UploadRow u;
  u.id = NewId("upl_", 16);
  u.tenant = t.name;
  u.sha256 = Sha256Hex(req.body);
  u.bytes = static_cast<std::int64_t>(req.body.size());
  // The extension names the format for people; intake reads the bytes themselves.
  std::string_view ext = ".tar";
  if (req.body.starts_with("\x1f\x8b")) ext = ".tar.gz";
  if (req.body.starts_with("PK\x03\x04")) ext = ".zip";
  fs::path path = options.state_dir / "uploads" / (u.id + std::string(ext));
  {
    std::ofstream out(path, std::ios::binary);
    out << req.body;
    if (!out.flush()) return Unavailable("control.state.io", "cannot store the upload");
  }
  fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write);
  u.path = path.string();
  LUNAL_RETURN_IF_ERROR(store->InsertUpload(u));
  return HttpResponse::Json(201, {{"upload_id", u.id}, {"sha256", u.sha256}, {"bytes", u.bytes}});
}

Result<HttpResponse> ControlPlane::Impl::HandleDeploy(HttpRequest& req) {
  LUNAL_ASSIGN_OR_RETURN(TenantRow t, Authenticate(req));
  LUNAL_ASSIGN_OR_RETURN(Json body, ParseJson(req.body));
  LUNAL_ASSIGN_OR_RETURN(std::string name, JsonString(body, "name"));
  if (!cds::IsValidName(name)) {
    return InvalidArgument("control.request.bad_field", "name: not a DNS label");
  }
  LUNAL_ASSIGN_OR_RETURN(auto env, JsonOptionalString(body, "environment"));
  std::string environment = env.value_or("production");
  if (environment != "production" && environment != "development") {
    return InvalidArgument("control.request.bad_field", "environment: production or development");
  }
  LUNAL_ASSIGN_OR_RETURN(auto branch, JsonOptionalString(body, "branch"));
  LUNAL_ASSIGN_OR_RETURN(auto project, JsonOptionalString(body, "project"));
  if (project && !cds::IsValidName(*project)) {
    return InvalidArgument("control.request.bad_field", "project: not a DNS label");
  }
  std::optional<std::int64_t> instances;
  if (body.contains("instances")) {
    LUNAL_ASSIGN_OR_RETURN(instances, JsonInt(body, "instances"));
    if (*instances < 0 || *instances > kMaxInstancesPerDeployment) {
      return InvalidArgument("control.request.bad_field", "instances: 0 to {}",
                             kMaxInstancesPerDeployment);
    }
  }
  LUNAL_ASSIGN_OR_RETURN(const Json* source, JsonObject(body, "source"));
  LUNAL_ASSIGN_OR_RETURN(std::string type, JsonString(*source, "type", "source"));
  Json stored = {{"type", type}};
  if (type == "upload") {
    LUNAL_ASSIGN_OR_RETURN(std::string id, JsonString(*source, "upload_id", "source"));
    LUNAL_ASSIGN_OR_RETURN(auto upload, store->GetUpload(id));
    if (!upload || upload->tenant != t.name) {
      return NotFound("control.upload.not_found", "no upload {}", id);
    }
    stored["upload_id"] = id;
  } else if (type == "git") {
    LUNAL_ASSIGN_OR_RETURN(std::string url, JsonString(*source, "url", "source"));
    LUNAL_ASSIGN_OR_RETURN(auto ref, JsonOptionalString(*source, "ref", "source"));
    stored["url"] = url;
    stored["ref"] = ref ? *ref : (branch ? *branch : std::string());
  } else if (type == "path") {
    if (!options.allow_local_paths) {
      return PermissionDenied("control.source.path_not_allowed",
                              "this server does not build local folders");
    }
    LUNAL_ASSIGN_OR_RETURN(std::string path, JsonString(*source, "path", "source"));
    if (!fs::path(path).is_absolute()) {
      return InvalidArgument("control.request.bad_field", "source.path: must be absolute");
    }
    stored["path"] = path;
  } else {
    return InvalidArgument("control.request.bad_field", "source.type: upload, git or path");
  }

  DeploymentRow row;
  {
    std::lock_guard lock(orch_mu);
    LUNAL_ASSIGN_OR_RETURN(auto existing, store->GetDeployment(name));
    if (existing && existing->tenant != t.name) {
      return Conflict("control.deployment.name_taken", "the name {} is taken", name);
    }
    Timestamp now = Now();
    if (existing) {
      row = *existing;  // a new revision: the running build keeps serving until replaced
      row.reason.clear();
      row.message.clear();
    } else {
      row.tenant = t.name;
      row.name = name;
      row.created_at = now;
    }
    if (project) {
      // A project named for the first time is created (the seed's "configure your project").
      LUNAL_ASSIGN_OR_RETURN(auto known, store->Projects(t.name, *project));
      if (known.empty()) {
        LUNAL_RETURN_IF_ERROR(store->InsertProject(
            {.tenant = t.name, .name = *project, .description = {}, .created_at = now}));
      }
      row.project = *project;
    }
    row.state = std::string(kBuilding);
    row.environment = environment;
    row.branch = branch ? *branch : std::string();
    row.source_json = stored.dump();
    if (instances) {
      row.instances_desired = *instances;
      row.instances_explicit = true;
    } else if (!existing) {
      row.instances_desired = 1;
      row.instances_explicit = false;
    }
    row.revision += 1;
    row.updated_at = now;
    LUNAL_RETURN_IF_ERROR(store->PutDeployment(row));
  }
  Spawn([this, name, revision = row.revision] { RunDeploy(name, revision); });
  LUNAL_ASSIGN_OR_RETURN(Json j, DeploymentToJson(row));
  return HttpResponse::Json(202, j);
}

Result<HttpResponse> ControlPlane::Impl::HandleSignature(HttpRequest& req) {
  LUNAL_ASSIGN_OR_RETURN(TenantRow t, Authenticate(req));
  LUNAL_ASSIGN_OR_RETURN(DeploymentRow d, Owned(t, req.PathParam("name")));
  if (d.build_hash.empty()) {
    return Conflict("control.deployment.not_built", "deployment {} has no build yet", d.name);
  }
  LUNAL_ASSIGN_OR_RETURN(Json body, ParseJson(req.body));
  LUNAL_ASSIGN_OR_RETURN(std::string armored, JsonString(body, "signature"));
  LUNAL_ASSIGN_OR_RETURN(auto given, JsonOptionalString(body, "message"));
  std::string message = given ? *given : d.build_hash + "\n";  // hash.txt's exact bytes
  // The signed message must name this build (docs/formats/build-output.md, hash.txt).
  if (Trim(message) != d.build_hash) {
    return VerificationFailed("deployment.signature.wrong_hash",
                              "the signed message does not name build {}", d.build_hash);
  }
  // PROTOCOL.sshsig §3-4: parse, namespace "lunal", signature over the message.
  auto sig = sign::ParseArmoredSshSignature(armored);
  Status verified = sig.ok()
                        ? sign::VerifySshSignature(*sig, AsBytes(message), sign::kLunalNamespace)
                        : sig.error();
  if (!verified.ok()) {
    return VerificationFailed("deployment.signature.invalid", "{}", verified.message());
  }
  std::string key_id = sig->public_key.Id().fingerprint;
  std::string developer_id = key_id;
  LUNAL_ASSIGN_OR_RETURN(Json config, ParseJson(d.config_json));
  Json signers = config.contains("signing")
                     ? config["signing"].value("allowedSigners", Json::array())
                     : Json::array();
  if (!signers.empty()) {
    bool listed = false;
    for (const Json& s : signers) {
      auto key = sign::SshPublicKey::FromOpenSshLine(s.value("key", ""));
      if (key.ok() && *key == sig->public_key) {
        developer_id = s.value("identity", "");
        listed = true;
        break;
      }
    }
    if (!listed) {
      return VerificationFailed("deployment.signature.unknown_signer",
                                "key {} is not among the project's allowed signers", key_id);
    }
  }
  internal::SignatureRow row{.deployment = d.name,
                             .build_hash = d.build_hash,
                             .signature = armored,
                             .message = message,
                             .developer_id = developer_id,
                             .key_id = key_id,
                             .created_at = Now()};
  LUNAL_RETURN_IF_ERROR(store->PutSignature(row));
  Emit(d.name, "signature", developer_id,
       {{"developer_id", developer_id}, {"key_id", key_id}, {"build_hash", d.build_hash}});
  return HttpResponse::Json(201, {{"developer_id", developer_id},
                                  {"key_id", key_id},
                                  {"signature_valid", true},
                                  {"namespace", sign::kLunalNamespace},
                                  {"build_hash", d.build_hash}});
}

Status ControlPlane::Impl::AddRoutes(net::Router& router) {
  Impl* self = this;

  // Registration errors (a duplicate route: our bug) are collected and the first returned.
  Status added;
  auto add = [&](std::string method, std::string_view pattern, net::Handler handler) {
    if (added.ok()) added = router.Add(std::move(method), pattern, std::move(handler));
  };

  add("GET", "/healthz", [](HttpRequest&) { return HttpResponse::Text(200, "ok"); });

  add("GET", "/v1/whoami", Wrap([=](HttpRequest& req) -> Result<HttpResponse> {
        LUNAL_ASSIGN_OR_RETURN(TenantRow t, self->Authenticate(req));
        return HttpResponse::Json(200, {{"tenant", t.name}, {"admin", t.admin}});
      }));

  add("POST", "/v1/tenants", Wrap([=](HttpRequest& req) -> Result<HttpResponse> {
        LUNAL_ASSIGN_OR_RETURN(TenantRow t, self->Authenticate(req));
        if (!t.admin)
          return PermissionDenied("control.auth.forbidden", "only an admin may do this");
        LUNAL_ASSIGN_OR_RETURN(Json body, ParseJson(req.body));
        LUNAL_ASSIGN_OR_RETURN(std::string name, JsonString(body, "name"));
        if (!cds::IsValidName(name)) {
          return InvalidArgument("control.request.bad_field", "name: not a DNS label");
        }
        std::string token = "lnl_" + Base64UrlEncode(crypto::RandomBytes(32));
        LUNAL_RETURN_IF_ERROR(
            self->store->CreateTenant({name, false}, TokenHash(token), self->Now()));
        return HttpResponse::Json(201, {{"tenant", name}, {"token", token}});
      }));

  add("GET", "/v1/platform", Wrap([=](HttpRequest& req) -> Result<HttpResponse> {
        LUNAL_ASSIGN_OR_RETURN(TenantRow t, self->Authenticate(req));
        (void)t;
        const auto& root = self->options.sim_root;
        return HttpResponse::Json(
            200, {{"mode", self->options.allow_local_paths ? "dev" : "production"},
                  {"gateway_url", self->options.gateway_url},
                  {"simulation", root != nullptr},
                  {"sim_root_pem", root ? Json(root->root_certificate().ToPem()) : Json(nullptr)},
                  {"sim_root_sha256", root ? Json(root->FingerprintHex()) : Json(nullptr)}});
      }));

  add("POST", "/v1/uploads", Wrap([=](HttpRequest& req) { return self->HandleUpload(req); }));

  add("POST", "/v1/deployments", Wrap([=](HttpRequest& req) { return self->HandleDeploy(req); }));

  // Projects: a tenant's named groups of deployments (names per tenant, unlike deployments').
  auto project_json = [self](const ProjectRow& p) -> Result<Json> {
    LUNAL_ASSIGN_OR_RETURN(auto rows, self->store->ListDeployments(p.tenant));
    Json names = Json::array();
    for (const auto& d : rows) {
      if (d.project == p.name && d.state != kDeleted) names.push_back(d.name);
    }
    return Json{{"name", p.name},
                {"description", p.description},
                {"created_at", FormatRfc3339(p.created_at)},
                {"deployments", std::move(names)}};
  };
  auto owned_project = [self](const TenantRow& t, std::string_view name) -> Result<ProjectRow> {
    LUNAL_ASSIGN_OR_RETURN(auto found, self->store->Projects(t.name, name));
    if (found.empty()) return NotFound("control.project.not_found", "no project {}", name);
    return found.front();
  };

  add("POST", "/v1/projects", Wrap([=](HttpRequest& req) -> Result<HttpResponse> {
        LUNAL_ASSIGN_OR_RETURN(TenantRow t, self->Authenticate(req));
        LUNAL_ASSIGN_OR_RETURN(Json body, ParseJson(req.body));
        LUNAL_ASSIGN_OR_RETURN(std::string name, JsonString(body, "name"));
        if (!cds::IsValidName(name)) {
          return InvalidArgument("control.request.bad_field", "name: not a DNS label");
        }
        LUNAL_ASSIGN_OR_RETURN(auto description, JsonOptionalString(body, "description"));
        if (description && description->size() > 1000) {
          return InvalidArgument("control.request.bad_field", "description: at most 1000 bytes");
        }
        ProjectRow p{.tenant = t.name,
                     .name = name,
                     .description = description.value_or(""),
                     .created_at = self->Now()};
        LUNAL_RETURN_IF_ERROR(self->store->InsertProject(p));
        LUNAL_ASSIGN_OR_RETURN(Json j, project_json(p));
        return HttpResponse::Json(201, j);
      }));

  add("GET", "/v1/projects", Wrap([=](HttpRequest& req) -> Result<HttpResponse> {
        LUNAL_ASSIGN_OR_RETURN(TenantRow t, self->Authenticate(req));
        LUNAL_ASSIGN_OR_RETURN(auto rows, self->store->Projects(t.name));
        Json list = Json::array();
        for (const auto& p : rows) {
          LUNAL_ASSIGN_OR_RETURN(Json j, project_json(p));
          list.push_back(std::move(j));
        }
        return HttpResponse::Json(200, {{"projects", list}});
      }));

  add("GET", "/v1/projects/{name}", Wrap([=](HttpRequest& req) -> Result<HttpResponse> {
        LUNAL_ASSIGN_OR_RETURN(TenantRow t, self->Authenticate(req));
        LUNAL_ASSIGN_OR_RETURN(ProjectRow p, owned_project(t, req.PathParam("name")));
        LUNAL_ASSIGN_OR_RETURN(Json j, project_json(p));
        return HttpResponse::Json(200, j);
      }));

  add("DELETE", "/v1/projects/{name}", Wrap([=](HttpRequest& req) -> Result<HttpResponse> {
        LUNAL_ASSIGN_OR_RETURN(TenantRow t, self->Authenticate(req));
        std::lock_guard lock(self->orch_mu);  // no deploy names it meanwhile
        LUNAL_ASSIGN_OR_RETURN(ProjectRow p, owned_project(t, req.PathParam("name")));
        LUNAL_ASSIGN_OR_RETURN(Json j, project_json(p));
        if (!j["deployments"].empty()) {
          return Conflict("control.project.not_empty", "project {} still has deployments: {}",
                          p.name, j["deployments"].dump());
        }
        LUNAL_RETURN_IF_ERROR(self->store->DeleteProject(t.name, p.name).status());
        return HttpResponse::Json(200, {{"deleted", p.name}});
      }));

  add("GET", "/v1/deployments", Wrap([=](HttpRequest& req) -> Result<HttpResponse> {
        LUNAL_ASSIGN_OR_RETURN(TenantRow t, self->Authenticate(req));
        LUNAL_ASSIGN_OR_RETURN(auto rows, self->store->ListDeployments(t.name));
        Json list = Json::array();
        for (const auto& d : rows) {
          LUNAL_ASSIGN_OR_RETURN(Json j, self->DeploymentToJson(d));
          list.push_back(std::move(j));
        }
        return HttpResponse::Json(200, {{"deployments", list}});
      }));

  add("GET", "/v1/deployments/{name}", Wrap([=](HttpRequest& req) -> Result<HttpResponse> {
        LUNAL_ASSIGN_OR_RETURN(TenantRow t, self->Authenticate(req));
        LUNAL_ASSIGN_OR_RETURN(DeploymentRow d, self->Owned(t, req.PathParam("name")));
        LUNAL_ASSIGN_OR_RETURN(Json j, self->DeploymentToJson(d));
        return HttpResponse::Json(200, j);
      }));

  add("DELETE", "/v1/deployments/{name}", Wrap([=](HttpRequest& req) -> Result<HttpResponse> {
        LUNAL_ASSIGN_OR_RETURN(TenantRow t, self->Authenticate(req));
        LUNAL_ASSIGN_OR_RETURN(DeploymentRow d, self->Owned(t, req.PathParam("name")));
        LUNAL_RETURN_IF_ERROR(self->DeleteDeployment(d.name));
        LUNAL_ASSIGN_OR_RETURN(DeploymentRow after, self->Owned(t, d.name));
        LUNAL_ASSIGN_OR_RETURN(Json j, self->DeploymentToJson(after));
        return HttpResponse::Json(200, j);
      }));

  add("POST", "/v1/deployments/{name}/scale", Wrap([=](HttpRequest& req) -> Result<HttpResponse> {
        LUNAL_ASSIGN_OR_RETURN(TenantRow t, self->Authenticate(req));
        LUNAL_ASSIGN_OR_RETURN(DeploymentRow d, self->Owned(t, req.PathParam("name")));
        LUNAL_ASSIGN_OR_RETURN(Json body, ParseJson(req.body));
        LUNAL_ASSIGN_OR_RETURN(std::int64_t k, JsonInt(body, "instances"));
        if (k < 0 || k > kMaxInstancesPerDeployment) {
          return InvalidArgument("control.request.bad_field", "instances: 0 to {}",
                                 kMaxInstancesPerDeployment);
        }
        LUNAL_RETURN_IF_ERROR(self->ScaleDeployment(d.name, k));
        LUNAL_ASSIGN_OR_RETURN(DeploymentRow after, self->Owned(t, d.name));
        LUNAL_ASSIGN_OR_RETURN(Json j, self->DeploymentToJson(after));
        return HttpResponse::Json(200, j);
      }));

  add("GET", "/v1/deployments/{name}/events", Wrap([=](HttpRequest& req) -> Result<HttpResponse> {
        LUNAL_ASSIGN_OR_RETURN(TenantRow t, self->Authenticate(req));
        LUNAL_ASSIGN_OR_RETURN(DeploymentRow d, self->Owned(t, req.PathParam("name")));
        LUNAL_ASSIGN_OR_RETURN(std::int64_t after, QueryInt(req, "after", 0, 0, INT64_MAX));
        LUNAL_ASSIGN_OR_RETURN(std::int64_t wait, QueryInt(req, "wait", 0, 0, kMaxWaitSeconds));
        LUNAL_ASSIGN_OR_RETURN(auto waited, self->LongPoll(wait, [&] {
          return self->store->Events(d.name, after, kPageLimit);
        }));
        (void)waited;
        // The state first, then the events: every transition writes its events before its state,
        // so the batch holds the events of the state it reports.
        LUNAL_ASSIGN_OR_RETURN(DeploymentRow now, self->Owned(t, d.name));
        LUNAL_ASSIGN_OR_RETURN(auto rows, self->store->Events(d.name, after, kPageLimit));
        Json events = Json::array();
        for (const auto& e : rows) {
          auto data = ParseJson(e.data_json);
          events.push_back({{"seq", e.seq},
                            {"time", FormatRfc3339(e.time)},
                            {"kind", e.kind},
                            {"message", e.message},
                            {"data", data.ok() ? *data : Json::object()}});
        }
        return HttpResponse::Json(200, {{"events", events}, {"state", now.state}});
      }));

  add("GET", "/v1/deployments/{name}/logs", Wrap([=](HttpRequest& req) -> Result<HttpResponse> {
        LUNAL_ASSIGN_OR_RETURN(TenantRow t, self->Authenticate(req));
        LUNAL_ASSIGN_OR_RETURN(DeploymentRow d, self->Owned(t, req.PathParam("name")));
        LUNAL_ASSIGN_OR_RETURN(std::int64_t after, QueryInt(req, "after", 0, 0, INT64_MAX));
        LUNAL_ASSIGN_OR_RETURN(std::int64_t wait, QueryInt(req, "wait", 0, 0, kMaxWaitSeconds));
        std::string instance(req.Query("instance").value_or(""));
        LUNAL_ASSIGN_OR_RETURN(auto rows, self->LongPoll(wait, [&] {
          return self->store->Logs(d.name, after, instance, kPageLimit);
        }));
        Json logs = Json::array();
        for (const auto& l : rows) {
          logs.push_back({{"seq", l.seq},
                          {"time", FormatRfc3339(l.time)},
                          {"instance_id", l.instance_id},
                          {"stream", l.stream},
                          {"line", l.line}});
        }
        return HttpResponse::Json(200, {{"logs", logs}});
      }));

  add("GET", "/v1/deployments/{name}/build", Wrap([=](HttpRequest& req) -> Result<HttpResponse> {
        LUNAL_ASSIGN_OR_RETURN(TenantRow t, self->Authenticate(req));
        LUNAL_ASSIGN_OR_RETURN(DeploymentRow d, self->Owned(t, req.PathParam("name")));
        if (d.build_hash.empty()) {
          return Conflict("control.deployment.not_built", "deployment {} has no build yet", d.name);
        }
        fs::path dir = d.build_dir;
        LUNAL_ASSIGN_OR_RETURN(Json manifest, ParseJson(d.manifest_json));
        LUNAL_ASSIGN_OR_RETURN(std::string provenance_text,
                               ReadText(dir / std::string(build::kProvenanceFile)));
        LUNAL_ASSIGN_OR_RETURN(Json provenance, ParseJson(provenance_text));
        LUNAL_ASSIGN_OR_RETURN(std::string hash_txt, ReadText(dir / std::string(build::kHashFile)));
        LUNAL_ASSIGN_OR_RETURN(Json config, ParseJson(d.config_json));
        return HttpResponse::Json(200, {{"build_hash", d.build_hash},
                                        {"manifest", manifest},
                                        {"provenance", provenance},
                                        {"hash_txt", hash_txt},
                                        {"config", config}});
      }));

  add("GET", "/v1/deployments/{name}/instances",
      Wrap([=](HttpRequest& req) -> Result<HttpResponse> {
        LUNAL_ASSIGN_OR_RETURN(TenantRow t, self->Authenticate(req));
        LUNAL_ASSIGN_OR_RETURN(DeploymentRow d, self->Owned(t, req.PathParam("name")));
        LUNAL_ASSIGN_OR_RETURN(auto rows, self->store->Instances(d.name));
        Json list = Json::array();
        for (const auto& i : rows) list.push_back(InstanceJson(i));
        return HttpResponse::Json(200, {{"instances", list}});
      }));

  add("GET", "/v1/deployments/{name}/evidence", Wrap([=](HttpRequest& req) -> Result<HttpResponse> {
        LUNAL_ASSIGN_OR_RETURN(TenantRow t, self->Authenticate(req));
        LUNAL_ASSIGN_OR_RETURN(DeploymentRow d, self->Owned(t, req.PathParam("name")));
        LUNAL_ASSIGN_OR_RETURN(Json bundle, self->EvidenceBundle(d));
        Json collateral = Json::object();
        const auto& root = self->options.sim_root;
        if (root != nullptr) {
          LUNAL_ASSIGN_OR_RETURN(auto files, root->Collateral(self->Now()));
          for (const auto& f : files) collateral[f.name] = Base64Encode(f.bytes);
        }
        bundle["collateral"] = collateral;
        bundle["sim_root_pem"] = root ? Json(root->root_certificate().ToPem()) : Json(nullptr);
        return HttpResponse::Json(200, bundle);
      }));

  add("GET", "/v1/deployments/{name}/attestation",
      Wrap([=](HttpRequest& req) -> Result<HttpResponse> {
        LUNAL_ASSIGN_OR_RETURN(TenantRow t, self->Authenticate(req));
        LUNAL_ASSIGN_OR_RETURN(DeploymentRow d, self->Owned(t, req.PathParam("name")));
        LUNAL_ASSIGN_OR_RETURN(Json record, self->VerifyLatest(d));
        return HttpResponse::Json(200, record);
      }));

  add("POST", "/v1/deployments/{name}/signatures",
      Wrap([=](HttpRequest& req) { return self->HandleSignature(req); }));
  return added;
}

}  // namespace lunal::control
