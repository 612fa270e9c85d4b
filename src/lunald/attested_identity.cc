#include "attested_identity.h"

#include <fmt/format.h>

#include <chrono>
#include <filesystem>

#include "lunal/attest/tdx/event_log_lunal.h"
#include "lunal/common/bytes.h"
#include "lunal/common/encoding.h"
#include "lunal/common/files.h"
#include "lunal/common/log.h"
#include "lunal/common/time.h"
#include "lunal/crypto/digest.h"
#include "lunal/crypto/keys.h"

namespace lunal::lunald {

Result<std::unique_ptr<AttestedIdentity>> AttestedIdentity::Enrol(
    std::shared_ptr<const attest::sim::SimulationRoot> root, IdentityOptions options) {
  auto self = std::unique_ptr<AttestedIdentity>(new AttestedIdentity());
  self->options_ = std::move(options);
  const std::string image = "lunald " + self->options_.deployment + " " + self->options_.build_hash;
  const auto mr_td = crypto::Sha384(ToBytes(image));
  LUNAL_ASSIGN_OR_RETURN(self->attester_,
                         attest::sim::SimTdxAttester::Create(
                             std::move(root), {.mr_td = Bytes(mr_td.begin(), mr_td.end()),
                                               .boot_measurements = {},
                                               .mr_config_id = {},
                                               .mr_owner = {},
                                               .mr_owner_config = {}}));
  LUNAL_ASSIGN_OR_RETURN(Bytes event,
                         attest::tdx::EncodeLunalEvent(
                             {attest::tdx::LunalEventType::kBuildHash, self->options_.build_hash}));
  LUNAL_RETURN_IF_ERROR(self->attester_->ExtendRtmr(3, crypto::Sha384(event), event));
  LUNAL_ASSIGN_OR_RETURN(cds::Enrolment e, self->EnrolOnce());
  LUNAL_ASSIGN_OR_RETURN(self->credentials_,
                         mesh::MeshCredentials::Load(e.certificate_pem, e.key_pem));
  self->ca_pem_ = e.ca_pem;
  self->renewer_ = std::thread([s = self.get()] { s->RenewLoop(); });
  return self;
}

AttestedIdentity::~AttestedIdentity() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (renewer_.joinable()) renewer_.join();
}

Result<cds::Enrolment> AttestedIdentity::EnrolOnce() {
  LUNAL_ASSIGN_OR_RETURN(auto key, crypto::PrivateKey::Generate(crypto::KeyType::kEcP256));
  return cds::Enroll({.cds_url = options_.cds_url,
                      .attester = attester_.get(),
                      .key = &key,
                      .tenant = options_.tenant,
                      .deployment = options_.deployment,
                      .instance = options_.instance,
                      .build_hash = options_.build_hash});
}

void AttestedIdentity::RenewLoop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    const auto wait = last_failed_ ? std::chrono::minutes(1) : std::chrono::minutes(40);
    if (cv_.wait_for(lock, wait, [&] { return stopping_; })) return;
    lock.unlock();
    auto e = EnrolOnce();
    Status s = e.ok() ? credentials_->Reload(e->certificate_pem, e->key_pem) : e.error();
    lock.lock();
    last_failed_ = !s.ok();
    if (!s.ok()) {
      log::Warn("identity.renewal_failed",
                {{"deployment", options_.deployment}, {"status", s.ToString()}});
    }
  }
}

Result<std::string> ExecutableBuildHash() {
  std::error_code ec;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return Unavailable("lunald.self_exe", "/proc/self/exe: {}", ec.message());
  LUNAL_ASSIGN_OR_RETURN(std::string bytes, ReadFile(self, {.max_bytes = std::size_t{1} << 30}));
  return "sha256:" + HexEncode(crypto::Sha256(ToBytes(bytes)));
}

Result<std::unique_ptr<AttestedIdentity>> EnrolPlatformRole(const std::string& sim_root_dir,
                                                            const std::string& cds_url,
                                                            const RoleIdentity& identity) {
  IdentityOptions options{.cds_url = cds_url,
                          .tenant = identity.tenant,
                          .deployment = identity.deployment,
                          .instance = identity.instance,
                          .build_hash = {}};
  LUNAL_ASSIGN_OR_RETURN(options.build_hash, ExecutableBuildHash());
  LUNAL_ASSIGN_OR_RETURN(auto root,
                         attest::sim::SimulationRoot::Open(sim_root_dir, SystemClock::Instance()));
  const std::string hash = options.build_hash;
  auto enrolled = AttestedIdentity::Enrol(std::move(root), std::move(options));
  if (!enrolled.ok() && enrolled.error().reason().starts_with("cds.allow_list.")) {
    const Status& s = enrolled.error();
    return Status(s.code(), s.reason(),
                  fmt::format("{} (the operator's allow-list must name {}/{} with build hash {}, "
                              "the SHA-256 of this lunald executable)",
                              s.message(), identity.tenant, identity.deployment, hash));
  }
  return enrolled;
}

Result<ControlOnly> ControlPlaneOnly(const AttestedIdentity& self, const mesh::MeshTrust& trust,
                                     const std::string& tenant,
                                     const std::string& control_deployment,
                                     std::string unauthenticated_reason,
                                     std::string refused_event) {
  const mesh::PeerExpectation control = PlatformPeer(tenant, control_deployment);
  LUNAL_ASSIGN_OR_RETURN(net::Authorizer authorize,
                         mesh::MeshPeerAuthorizer(control, std::move(unauthenticated_reason)));
  LUNAL_ASSIGN_OR_RETURN(
      net::TlsServerOptions tls,
      mesh::MeshServerTls(
          self.credentials(), trust, control,
          [event = std::move(refused_event)](std::string_view remote, const Status& why) {
            log::Warn(event, {{"remote", remote}, {"status", why.ToString()}});
          }));
  return ControlOnly{.tls = std::move(tls), .authorize = std::move(authorize)};
}

mesh::PeerExpectation PlatformPeer(const std::string& tenant, const std::string& deployment) {
  return {.tenant = tenant,
          .deployment = deployment,
          .instance = std::nullopt,
          .build_hashes = {},
          .any_build = true,
          .tee_types = {},
          .allow_simulated = true};
}

}  // namespace lunal::lunald
