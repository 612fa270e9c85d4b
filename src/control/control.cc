// ControlPlane: opening the store, tenants and tokens, the log writer, the worker pool,
// shutdown; the evidence bundle and its server-side verification.
#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "impl.h"
#include "lunal/attest/engine/sim_source.h"
#include "lunal/common/encoding.h"
#include "lunal/common/json.h"
#include "lunal/crypto/digest.h"
#include "lunal/crypto/random.h"

#ifdef LUNAL_CONTROL_HAVE_DEPLOYMENT_RECORD
#include "lunal/attest/deployment_record.h"
#endif

namespace lunal::control {

namespace fs = std::filesystem;
using internal::DeploymentRow;

std::string NewId(std::string_view prefix, std::size_t random_bytes) {
  return std::string(prefix) + HexEncode(crypto::RandomBytes(random_bytes));
}

std::string Sha256Hex(std::string_view data) { return HexEncode(crypto::Sha256(AsBytes(data))); }

std::string TokenHash(std::string_view token) { return Sha256Hex(token); }

namespace {

// "lnl_" + 43 base64url characters: 32 random bytes (api.md "Tenants and identity").
std::string NewToken() { return "lnl_" + Base64UrlEncode(crypto::RandomBytes(32)); }

Status WritePrivateFile(const fs::path& path, std::string_view contents) {
  fs::path tmp = path;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return Unavailable("control.state.io", "cannot write {}", tmp.string());
    out << contents;
    if (!out.flush()) return Unavailable("control.state.io", "cannot write {}", tmp.string());
  }
  if (::chmod(tmp.c_str(), 0600) != 0) {
    return Unavailable("control.state.io", "cannot chmod {}", tmp.string());
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec)
    return Unavailable("control.state.io", "cannot rename {}: {}", tmp.string(), ec.message());
  return Status::Ok();
}

// "scheme://host[:port][/…]" → {"scheme://", "host[:port]"}.
std::pair<std::string, std::string> SplitUrl(std::string_view url) {
  std::size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return {"http://", std::string(url)};
  std::string_view rest = url.substr(scheme_end + 3);
  std::size_t slash = rest.find('/');
  if (slash != std::string_view::npos) rest = rest.substr(0, slash);
  return {std::string(url.substr(0, scheme_end + 3)), std::string(rest)};
}

}  // namespace

void ControlPlane::Impl::Notify() {
  {
    std::lock_guard lock(notify_mu);
    ++generation;
  }
  notify_cv.notify_all();
}

void ControlPlane::Impl::Emit(std::string_view deployment, std::string_view kind,
                              std::string_view message, const Json& data) {
  internal::EventRow row;
  row.deployment = std::string(deployment);
  row.time = Now();
  row.kind = std::string(kind);
  row.message = std::string(message);
  row.data_json = DumpJson(data);
  // Deliberately ignored: see impl.h (an event that cannot be written must not stop the
  // orchestration; the deployment row still carries the state and reason).
  auto seq = store->AddEvent(std::move(row));
  (void)seq;
  Notify();
}

void ControlPlane::Impl::QueueLog(std::string_view deployment, std::string_view instance_id,
                                  std::string_view stream, std::string_view line) {
  internal::LogRow row;
  row.deployment = std::string(deployment);
  row.instance_id = std::string(instance_id);
  row.time = Now();
  row.stream = std::string(stream);
  row.line = std::string(line);
  std::lock_guard lock(log_mu);
  log_queue.push_back(std::move(row));
}

void ControlPlane::Impl::LogWriterLoop() {
  std::unique_lock lock(log_mu);
  while (true) {
    log_cv.wait_for(lock, std::chrono::milliseconds(100), [&] { return log_stop; });
    std::vector<internal::LogRow> batch;
    batch.swap(log_queue);
    bool stop = log_stop;
    lock.unlock();
    if (!batch.empty()) {
      // A failed batch is dropped (disk full, …): logs are best effort, the instance goes on.
      store->AddLogs(batch).IgnoreError();
      Notify();
    }
    if (stop) return;
    lock.lock();
  }
}

void ControlPlane::Impl::Spawn(std::function<void()> work, std::chrono::milliseconds delay) {
  {
    std::lock_guard lock(pool_mu);
    if (pool_stop) return;
    tasks.emplace(std::chrono::steady_clock::now() + delay, std::move(work));
  }
  pool_cv.notify_one();
}

void ControlPlane::Impl::PoolLoop() {
  std::unique_lock lock(pool_mu);
  while (!pool_stop) {
    if (tasks.empty()) {
      pool_cv.wait(lock);
      continue;
    }
    auto first = tasks.begin();
    if (first->first > std::chrono::steady_clock::now()) {
      pool_cv.wait_until(lock, first->first);
      continue;
    }
    std::function<void()> work = std::move(first->second);
    tasks.erase(first);
    lock.unlock();
    work();
    lock.lock();
  }
}

std::string ControlPlane::Impl::DeploymentUrl(std::string_view name) const {
  if (options.gateway_url.empty()) return {};
  auto [scheme, host] = SplitUrl(options.gateway_url);
  return fmt::format("{}{}.{}/", scheme, name, host);
}

std::string ControlPlane::Impl::DeploymentPathUrl(std::string_view name) const {
  if (options.gateway_url.empty()) return {};
  auto [scheme, host] = SplitUrl(options.gateway_url);
  return fmt::format("{}{}/d/{}/", scheme, host, name);
}

Json ControlPlane::Impl::VerdictJson(std::string_view deployment) {
  auto att = store->LatestAttestation(deployment);
  if (!att.ok() || !att->has_value()) return nullptr;
  Json j = {{"status", "none"},
            {"tee", "tdx"},
            {"simulated", options.sim_root != nullptr},
            {"last_verified", nullptr}};
  auto bundle = ParseJson((*att)->bundle_json);
  if (bundle.ok() && bundle->contains("evidence") && (*bundle)["evidence"].is_object() &&
      (*bundle)["evidence"].contains("platform") && (*bundle)["evidence"]["platform"].is_string()) {
    j["tee"] = (*bundle)["evidence"]["platform"];
  }
  std::lock_guard lock(verdict_mu);
  auto it = verdicts.find(deployment);
  if (it != verdicts.end() && it->second.attestation_id == (*att)->id) {
    j["status"] = it->second.status;
    j["last_verified"] = FormatRfc3339(it->second.at);
  }
  return j;
}

Result<Json> ControlPlane::Impl::EvidenceBundle(const DeploymentRow& d) {
  LUNAL_ASSIGN_OR_RETURN(auto att, store->LatestAttestation(d.name));
  if (!att) {
    return Conflict("control.deployment.not_running", "deployment {} has no attested instance",
                    d.name);
  }
  LUNAL_ASSIGN_OR_RETURN(Json bundle, ParseJson(att->bundle_json));
  std::string hash = bundle.value("build_hash", "");
  LUNAL_ASSIGN_OR_RETURN(auto sig, store->LatestSignature(d.name, hash));
  if (sig) {
    Json signers = Json::array();
    auto config = ParseJson(d.config_json.empty() ? "{}" : d.config_json);
    if (config.ok() && config->contains("signing")) {
      for (const Json& s : (*config)["signing"].value("allowedSigners", Json::array())) {
        signers.push_back(s.value("identity", "") + " " + s.value("key", ""));
      }
    }
    bundle["signature"] = {{"signature", sig->signature},
                           {"signed_message", sig->message},
                           {"allowed_signers", signers}};
  }
  return bundle;
}

Result<Json> ControlPlane::Impl::VerifyLatest(const DeploymentRow& d) {
  LUNAL_ASSIGN_OR_RETURN(Json bundle, EvidenceBundle(d));
#ifdef LUNAL_CONTROL_HAVE_DEPLOYMENT_RECORD
  if (verifier == nullptr) {
    return Unavailable("control.attestation.unavailable",
                       "the control plane has no verifier: no simulation root is configured");
  }
  LUNAL_ASSIGN_OR_RETURN(attest::DeploymentEvidence evidence,
                         attest::ParseDeploymentEvidence(bundle));
  Timestamp now = Now();
  Json record = attest::VerifyDeploymentRecord(evidence, *verifier, now);
  record["last_verified"] = FormatRfc3339(now);
  {
    std::lock_guard lock(verdict_mu);
    verdicts[d.name] =
        Verdict{bundle.value("id", ""), record.value("status", std::string("failed")), now};
  }
  return record;
#else
  (void)bundle;
  return Unavailable("control.attestation.unavailable",
                     "this build has no deployment-record verifier (lunal::attest_deployment)");
#endif
}

ControlPlane::ControlPlane(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

ControlPlane::~ControlPlane() { Shutdown(); }

Result<std::unique_ptr<ControlPlane>> ControlPlane::Open(ControlOptions options) {
  if (options.state_dir.empty() || options.node == nullptr || options.routes == nullptr ||
      options.authority == nullptr) {
    return InvalidArgument("control.config.bad_options",
                           "state_dir, node, routes and authority are required");
  }
  std::error_code ec;
  fs::create_directories(options.state_dir / "uploads", ec);
  if (!ec) fs::create_directories(options.state_dir / "builds", ec);
  if (!ec) fs::create_directories(options.state_dir / "work", ec);
  if (ec) {
    return Unavailable("control.state.io", "cannot create {}: {}", options.state_dir.string(),
                       ec.message());
  }
  ::chmod(options.state_dir.c_str(), 0700);
  if (options.builder_key.empty()) options.builder_key = options.state_dir / "builder-key.pem";
  auto impl = std::make_unique<Impl>();
  impl->clock = options.clock != nullptr ? options.clock : &SystemClock::Instance();
  LUNAL_ASSIGN_OR_RETURN(impl->store, internal::Store::Open(options.state_dir / "control.db"));
  if (options.sim_root != nullptr) {
    impl->verifier = attest::engine::MakeLocalVerifier(
        {.collateral = attest::engine::MakeSimulationSource(options.sim_root),
         .simulated_anchors = {options.sim_root->Anchor()},
         .clock = impl->clock});
  }
  impl->options = std::move(options);
  Impl* raw = impl.get();
  impl->log_writer = std::thread([raw] { raw->LogWriterLoop(); });
  for (int i = 0; i < Impl::kPoolThreads; ++i) {
    impl->pool.emplace_back([raw] { raw->PoolLoop(); });
  }
  return std::unique_ptr<ControlPlane>(new ControlPlane(std::move(impl)));
}

Status ControlPlane::AddRoutes(net::Router& router) { return impl_->AddRoutes(router); }

Result<std::string> ControlPlane::CreateTenant(std::string_view name, bool admin) {
  std::string token = NewToken();
  LUNAL_RETURN_IF_ERROR(
      impl_->store->CreateTenant({std::string(name), admin}, TokenHash(token), impl_->Now()));
  return token;
}

Result<std::string> ControlPlane::DevToken() {
  fs::path file = impl_->options.state_dir / "dev-token";
  std::ifstream in(file);
  if (in) {
    std::string token;
    std::getline(in, token);
    LUNAL_ASSIGN_OR_RETURN(auto tenant, impl_->store->TenantForToken(TokenHash(token)));
    if (tenant && tenant->name == "dev") return token;
  }
  LUNAL_ASSIGN_OR_RETURN(auto dev, impl_->store->GetTenant("dev"));
  if (dev) {
    // The file is gone but the tenant is not: the old token cannot be shown again (only its
    // hash is stored), so the tenant gets a new one beside it.
    std::string token = NewToken();
    LUNAL_RETURN_IF_ERROR(impl_->store->AddToken(TokenHash(token), "dev"));
    LUNAL_RETURN_IF_ERROR(WritePrivateFile(file, token + "\n"));
    return token;
  }
  LUNAL_ASSIGN_OR_RETURN(std::string token, CreateTenant("dev", true));
  LUNAL_RETURN_IF_ERROR(WritePrivateFile(file, token + "\n"));
  return token;
}

void ControlPlane::OnNodeEvent(const node::NodeEvent& event) { impl_->HandleNodeEvent(event); }

Status ControlPlane::Recover() { return impl_->RecoverAll(); }

void ControlPlane::Shutdown() {
  if (!impl_) return;
  impl_->stopping.store(true);
  {
    std::lock_guard lock(impl_->pool_mu);
    impl_->pool_stop = true;  // tasks not started are dropped; running ones finish
  }
  impl_->pool_cv.notify_all();
  impl_->Notify();  // long polls return
  for (auto& t : impl_->pool) {
    if (t.joinable()) t.join();
  }
  {
    std::lock_guard lock(impl_->log_mu);
    impl_->log_stop = true;
  }
  impl_->log_cv.notify_all();
  if (impl_->log_writer.joinable()) impl_->log_writer.join();
  impl_->Notify();
}

}  // namespace lunal::control
