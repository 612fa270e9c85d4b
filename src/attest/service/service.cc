#include "lunal/attest/service/service.h"

#include <fmt/format.h>

#include <exception>
#include <functional>

#include "auth.h"
#include "lunal/common/encoding.h"
#include "lunal/common/log.h"
#include "lunal/net/errors.h"
#include "metrics.h"
#include "verify_request.h"

namespace lunal::attest::service {

using internal::BearerAuth;
using internal::Metrics;
using net::HttpRequest;
using net::HttpResponse;

namespace {

constexpr std::string_view kAuthDisabledWarning =
    "authentication is disabled (--insecure-no-auth): anyone who can reach this port can verify, "
    "attest and read metrics";

std::string FormatUrl(const std::string& host, std::uint16_t port) {
  if (host.find(':') != std::string::npos) return fmt::format("http://[{}]:{}", host, port);
  return fmt::format("http://{}:{}", host, port);
}

// The reason a verdict is counted under: the failing step's, the first policy violation's, or
// "none" for a verified result.
std::string VerdictReason(const engine::VerifyResponse& response) {
  if (response.verdict == engine::Verdict::kFailed) return response.error.reason();
  if (response.verdict == engine::Verdict::kVerified) return "none";
  const Json* violations = nullptr;
  if (auto a = response.record.find("attestation"); a != response.record.end() && a->is_object()) {
    if (auto p = a->find("policy"); p != a->end() && p->is_object()) {
      if (auto v = p->find("violations"); v != p->end() && v->is_array()) violations = &*v;
    }
  }
  if (violations != nullptr && !violations->empty() && (*violations)[0].is_object()) {
    if (auto r = (*violations)[0].find("reason"); r != (*violations)[0].end() && r->is_string()) {
      return r->get<std::string>();
    }
  }
  return "policy";
}

}  // namespace

struct AttestationService::Impl {
  ServiceOptions options;
  const Clock* clock = nullptr;
  BearerAuth auth;
  Metrics metrics;
  std::unique_ptr<net::HttpServer> server;
  std::string url;
  std::vector<std::string> endpoint_paths;  // the routes' paths: the metric's endpoint labels

  Impl(ServiceOptions o, const Clock* c)
      : options(std::move(o)),
        clock(c),
        auth(options.auth.token_sha256, options.auth.insecure_no_auth) {}

  HttpResponse Error(const HttpRequest& request, const Status& status) {
    if (status.code() == Code::kInternal) {
      log::Error(
          "attestation.internal_error",
          {{"method", request.method}, {"path", request.path}, {"status", status.ToString()}});
    }
    return net::ErrorResponse(status);
  }

  // Authentication (unless `open`), the handler and exception safety. Requests are counted by the
  // server's response hook (Start), which also sees what no handler answered (404, 413, ...).
  net::Handler Wrap(std::string endpoint, bool open,
                    std::function<HttpResponse(HttpRequest&)> handler) {
    return [this, endpoint = std::move(endpoint), open,
            handler = std::move(handler)](HttpRequest& request) {
      HttpResponse response;
      Status allowed = open ? Status() : auth.Check(request.Header("Authorization"));
      if (!allowed.ok()) {
        log::Warn("attestation.auth_rejected", {{"endpoint", endpoint},
                                                {"reason", allowed.reason()},
                                                {"remote", request.remote_address}});
        response = net::ErrorResponse(allowed);
      } else {
        try {
          response = handler(request);
        } catch (const std::exception& e) {
          response = Error(request, Internal("attest.service.exception", "{}", e.what()));
        }
      }
      return response;
    };
  }

  HttpResponse Verify(HttpRequest& request);
  HttpResponse Attest(HttpRequest& request);
  HttpResponse Jwks(HttpRequest& request);
  HttpResponse Collateral(HttpRequest& request);
  HttpResponse Healthz(HttpRequest& request);
  HttpResponse MetricsText(HttpRequest& request);
};

HttpResponse AttestationService::Impl::Verify(HttpRequest& request) {
  if (!request.query.empty() && !internal::IsOctetStream(request.Header("Content-Type"))) {
    return Error(request, InvalidArgument("attest.request.unknown_field",
                                          "query parameters go with an application/octet-stream "
                                          "body; a JSON request carries its options inside"));
  }
  auto call =
      internal::IsOctetStream(request.Header("Content-Type"))
          ? internal::DecodeVerifyRaw(request.body, request.query, options.limits,
                                      options.allow_request_time)
          : internal::DecodeVerifyBody(request.body, options.limits, options.allow_request_time);
  if (!call.ok()) return Error(request, call.error());
  if (call->issue_token && options.issuer == nullptr) {
    return Error(request, Unavailable("attest.token.unavailable",
                                      "this service issues no result tokens (no token keys)"));
  }
  engine::VerifyRequest& verify = call->request;
  if (!verify.as_of.has_value()) verify.as_of = clock->Now();
  if (!verify.policy.has_value() && options.default_policy.has_value()) {
    verify.policy = options.default_policy;
  }

  const auto started = std::chrono::steady_clock::now();
  auto result = options.verifier->Verify(verify);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  metrics.ObserveVerifySeconds(seconds);
  if (!result.ok()) {
    // The request's fault (evidence in no container we read, options that do not apply), or
    // ours (internal, logged by Error).
    log::Info("attestation.verify_refused",
              {{"reason", result.error().reason()}, {"remote", request.remote_address}});
    return Error(request, result.error());
  }

  const engine::VerifyResponse& response = *result;
  const std::string tee = response.tee.empty() ? "unknown" : response.tee;
  const std::string verdict(engine::VerdictName(response.verdict));
  const std::string reason = VerdictReason(response);
  metrics.CountVerdict(tee, verdict, reason);
  if (log::Enabled(log::Level::kInfo)) {  // the fields are built only when they are written
    log::Info("attestation.verify", {{"tee", tee},
                                     {"verdict", verdict},
                                     {"reason", reason},
                                     {"container", response.container},
                                     {"micros", static_cast<std::int64_t>(seconds * 1e6)},
                                     {"remote", request.remote_address}});
  }

  if (!call->issue_token || response.verdict != engine::Verdict::kVerified) {
    return HttpResponse::Json(200, response.record);
  }
  auto token = options.issuer->Issue(response.essentials, call->nonce_hex);
  if (!token.ok()) return Error(request, token.error());
  Json record = response.record;
  record["token"] = std::move(*token);
  return HttpResponse::Json(200, record);
}

HttpResponse AttestationService::Impl::Attest(HttpRequest& request) {
  if (options.attester == nullptr) {
    return Error(request, Unavailable("attest.unavailable",
                                      "this service has no attester (configure attester.type)"));
  }
  auto report_data = internal::DecodeAttestBody(request.body);
  if (!report_data.ok()) return Error(request, report_data.error());
  auto evidence = options.attester->Attest(*report_data);
  if (!evidence.ok()) return Error(request, evidence.error());
  // The Lunal evidence envelope (DESIGN.md "Evidence envelope"): POST it back as "evidence".
  Json envelope = {
      {"platform", TeeTypeName(evidence->tee)},
      {evidence->tee == TeeType::kTdx ? "quote" : "report", Base64Encode(evidence->quote)},
      {"simulated", evidence->simulated}};
  if (!evidence->event_log.empty()) envelope["event_log"] = Base64Encode(evidence->event_log);
  if (!evidence->aux_blob.empty()) envelope["aux_blob"] = Base64Encode(evidence->aux_blob);
  log::Info("attestation.attest", {{"attester", options.attester->Name()},
                                   {"simulated", evidence->simulated},
                                   {"remote", request.remote_address}});
  return HttpResponse::Json(200, envelope);
}

HttpResponse AttestationService::Impl::Jwks(HttpRequest&) {
  Json jwks = options.issuer != nullptr ? options.issuer->Jwks() : Json{{"keys", Json::array()}};
  // Short caching: a validator meeting an unknown kid refetches, and a retired key stays
  // published while its tokens live (docs/formats/result-token.md "Rotation").
  return HttpResponse::Json(200, jwks).AddHeader("Cache-Control", "public, max-age=60");
}

HttpResponse AttestationService::Impl::Collateral(HttpRequest&) {
  const Timestamp now = clock->Now();
  Json documents = Json::array();
  if (options.collateral != nullptr) {
    for (const collateral::DocumentInfo& d : options.collateral->Describe(now)) {
      Json doc = {{"kind", d.kind}, {"key", d.key}, {"source", d.source}, {"valid", d.valid}};
      if (d.issued) doc["issued"] = FormatRfc3339(*d.issued);
      if (d.next_update) doc["next_update"] = FormatRfc3339(*d.next_update);
      if (d.fetched) doc["fetched"] = FormatRfc3339(*d.fetched);
      documents.push_back(std::move(doc));
    }
  }
  return HttpResponse::Json(200, {{"as_of", FormatRfc3339(now)}, {"documents", documents}});
}

HttpResponse AttestationService::Impl::Healthz(HttpRequest&) {
  Json warnings = Json::array();
  if (auth.disabled()) warnings.push_back(kAuthDisabledWarning);
  for (const std::string& notice : options.notices) warnings.push_back(notice);
  return HttpResponse::Json(200, {{"status", "ok"},
                                  {"auth", auth.disabled() ? "disabled" : "bearer"},
                                  {"warnings", warnings}});
}

HttpResponse AttestationService::Impl::MetricsText(HttpRequest&) {
  const Timestamp now = clock->Now();
  internal::Gauges gauges;
  gauges.auth_disabled = auth.disabled();
  if (options.collateral != nullptr) {
    for (const collateral::DocumentInfo& d : options.collateral->Describe(now)) {
      ++(d.valid ? gauges.collateral_valid : gauges.collateral_expired);
    }
  }
  if (options.issuer != nullptr) {
    const Json jwks = options.issuer->Jwks();
    const std::size_t published = jwks.contains("keys") ? jwks["keys"].size() : 0;
    gauges.token_keys_current = published > 0 ? 1 : 0;
    gauges.token_keys_retired = published > 0 ? published - 1 : 0;
  }
  HttpResponse response;
  response.status = 200;
  response.body = metrics.Render(gauges);
  response.AddHeader("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
  return response;
}

AttestationService::AttestationService(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

AttestationService::~AttestationService() { Stop(std::chrono::milliseconds(0)); }

Result<std::unique_ptr<AttestationService>> AttestationService::Create(ServiceOptions options) {
  if (options.verifier == nullptr) {
    return InvalidArgument("attest.service.options", "the service needs an evidence verifier");
  }
  if (options.auth.token_sha256.empty() && !options.auth.insecure_no_auth) {
    return InvalidArgument("attest.service.no_auth",
                           "no bearer tokens are configured (auth.token_sha256) and "
                           "authentication was not explicitly disabled (--insecure-no-auth)");
  }
  const ServiceLimits& l = options.limits;
  if (l.max_body_bytes == 0 || l.max_evidence_bytes == 0 || l.max_event_log_bytes == 0) {
    return InvalidArgument("attest.service.options", "limits must be positive");
  }
  const Clock* clock = options.clock != nullptr ? options.clock : &SystemClock::Instance();
  return std::unique_ptr<AttestationService>(
      new AttestationService(std::make_unique<Impl>(std::move(options), clock)));
}

Result<net::Router> AttestationService::MakeRouter() {
  Impl* s = impl_.get();
  auto bind = [s](HttpResponse (Impl::*fn)(HttpRequest&)) {
    return [s, fn](HttpRequest& request) { return (s->*fn)(request); };
  };
  struct Route {
    const char* method;
    const char* path;
    bool open;  // no authentication
    HttpResponse (Impl::*fn)(HttpRequest&);
  };
  const Route routes[] = {
      {"POST", "/v1/attestation/verify", false, &Impl::Verify},
      {"POST", "/v1/attestation/attest", false, &Impl::Attest},
      {"GET", "/v1/attestation/jwks", true, &Impl::Jwks},
      {"GET", "/.well-known/jwks.json", true, &Impl::Jwks},
      {"GET", "/v1/attestation/collateral", false, &Impl::Collateral},
      {"GET", "/healthz", true, &Impl::Healthz},
      {"GET", "/metrics", false, &Impl::MetricsText},
  };
  net::Router router;
  s->endpoint_paths.clear();
  for (const Route& r : routes) {
    s->endpoint_paths.emplace_back(r.path);
    LUNAL_RETURN_IF_ERROR(router.Add(r.method, r.path, s->Wrap(r.path, r.open, bind(r.fn))));
  }
  return router;
}

Status AttestationService::Start(net::ServerOptions server) {
  if (impl_->server != nullptr) {
    return Conflict("net.server_state", "the attestation service was already started");
  }
  LUNAL_ASSIGN_OR_RETURN(net::Router router, MakeRouter());
  server.max_body_bytes = impl_->options.limits.max_body_bytes;
  if (!server.on_internal_error) {
    server.on_internal_error = [](const HttpRequest& request, const Status& status) {
      log::Error("attestation.internal_error",
                 {{"path", request.path}, {"status", status.ToString()}});
    };
  }
  // Every response counts, labelled by endpoint; paths that are not ours share one label, so a
  // scanner cannot grow the metric's cardinality.
  server.on_response = [s = impl_.get(), previous = std::move(server.on_response)](
                           std::string_view method, std::string_view path, int status) {
    bool known = false;
    for (std::string_view endpoint : s->endpoint_paths) known = known || endpoint == path;
    s->metrics.CountRequest(known ? path : "other", status);
    if (previous) previous(method, path, status);
  };
  const std::string host = server.bind_address;
  impl_->server = std::make_unique<net::HttpServer>(std::move(server), std::move(router));
  LUNAL_RETURN_IF_ERROR(impl_->server->Start());
  impl_->url = FormatUrl(host, impl_->server->port());
  if (impl_->auth.disabled()) {
    log::Warn("attestation.auth_disabled", {{"warning", kAuthDisabledWarning}});
  }
  log::Info("attestation.listening", {{"url", impl_->url}});
  return Status();
}

void AttestationService::Stop(std::chrono::milliseconds grace) {
  if (impl_ != nullptr && impl_->server != nullptr) impl_->server->Stop(grace);
}

std::uint16_t AttestationService::port() const {
  return impl_->server != nullptr ? impl_->server->port() : 0;
}

std::string AttestationService::url() const { return impl_->url; }

}  // namespace lunal::attest::service
