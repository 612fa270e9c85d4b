// The CDS core: bootstrap, challenges, the appraisal pipeline, certificate issuance, manifests,
// beacons and the registry (docs/protocols/cds.md).
#include "lunal/cds/cds.h"

#include <algorithm>
#include <utility>

#include "impl.h"
#include "lunal/attest/policy/policy.h"
#include "lunal/cds/instance.h"
#include "lunal/common/encoding.h"
#include "lunal/common/files.h"
#include "lunal/crypto/aead.h"
#include "lunal/crypto/csr.h"
#include "lunal/crypto/random.h"
#include "lunal/crypto/signature.h"
#include "lunal/crypto/x509_builder.h"
#include "lunal/mesh/profile.h"

namespace lunal::cds {
namespace {

constexpr std::string_view kWrapDomain = "lunal/cds/wrap/v1";
constexpr std::string_view kCaKeyLabel = "ca-key";
constexpr std::size_t kMasterKeySize = 32;
constexpr std::chrono::hours kCaValidity{24 * 3653};
// RFC 5280 §4.2.1.12 id-kp-serverAuth, id-kp-clientAuth.
constexpr std::string_view kServerAuth = "1.3.6.1.5.5.7.3.1";
constexpr std::string_view kClientAuth = "1.3.6.1.5.5.7.3.2";

Bytes WrapAad(std::string_view label) {
  Bytes aad = ToBytes(kWrapDomain);
  aad.push_back(0);
  aad.insert(aad.end(), label.begin(), label.end());
  return aad;
}

Result<Bytes> LoadOrCreateMasterKey(const CdsOptions& options) {
  const bool given = options.master_key_file.has_value();
  const std::filesystem::path path =
      given ? *options.master_key_file : options.state_dir / "master.key";
  auto existing = ReadFileIfExists(path, {.max_bytes = 4096, .require_private = true});
  if (!existing.ok()) {
    return Status(existing.error().code(), "cds.master_key.unreadable", existing.error().message());
  }
  if (options.master_key && options.master_key->size() != kMasterKeySize) {
    return InvalidArgument("cds.master_key.bad_length", "master_key: {} bytes, want {}",
                           options.master_key->size(), kMasterKeySize);
  }
  if (*existing) {
    if (options.master_key && !ConstantTimeEqual(*options.master_key, AsBytes(**existing))) {
      return InvalidArgument("cds.master_key.mismatch",
                             "{} holds another master key than the one given", path.string());
    }
    if ((*existing)->size() != kMasterKeySize) {
      return InvalidArgument("cds.master_key.bad_length", "{}: {} bytes, want {}", path.string(),
                             (*existing)->size(), kMasterKeySize);
    }
    return ToBytes(**existing);
  }
  if (given && !options.master_key) {
    return NotFound("cds.master_key.missing", "{}: no such file", path.string());
  }
  // A replica persists the key it received (ReleaseMasterKey); a first start makes one.
  Bytes key = options.master_key ? *options.master_key : crypto::RandomBytes(kMasterKeySize);
  if (Status s = WriteFileAtomically(path, AsStringView(key), 0600); !s.ok()) {
    return Status(s.code(), "cds.master_key.unreadable", s.message());
  }
  return key;
}

Result<crypto::Certificate> MakeCaCertificate(const crypto::PrivateKey& key, const CdsOptions& o,
                                              Timestamp now) {
  LUNAL_ASSIGN_OR_RETURN(crypto::PublicKey pub, key.PublicKey());
  const auto start = ToSeconds(now) - std::chrono::hours(1);
  return crypto::CertificateBuilder()
      .SubjectCommonName(o.ca_common_name)
      .SubjectOrganization("Lunal")
      .Validity(start, start + kCaValidity)
      .SubjectKey(pub)
      .Ca(true, 0)
      .SelfSign(key);
}

std::string TeeName(const Json& essentials) {
  const std::string tee = essentials.value("tee", "");
  return tee == "snp" ? "sev-snp" : tee;
}

}  // namespace

Status CheckName(std::string_view field, std::string_view value) {
  if (IsValidName(value)) return Status::Ok();
  return InvalidArgument("cds.request.bad_field",
                         "{}: \"{}\" is not a name (1-63 of a-z, 0-9, '-', not starting with '-')",
                         field, value.substr(0, 80));
}

// ---- master-key wrapping ----

Result<Bytes> WrapUnder(ByteSpan master_key, std::string_view label, ByteSpan plaintext) {
  Bytes nonce = crypto::RandomBytes(crypto::kAeadNonceSize);
  LUNAL_ASSIGN_OR_RETURN(
      Bytes sealed, crypto::AeadSeal(crypto::AeadAlgorithm::kChaCha20Poly1305, master_key, nonce,
                                     plaintext, WrapAad(label)));
  nonce.insert(nonce.end(), sealed.begin(), sealed.end());
  return nonce;
}

Result<Bytes> UnwrapUnder(ByteSpan master_key, std::string_view label, ByteSpan wrapped) {
  if (wrapped.size() < crypto::kAeadNonceSize) {
    return Internal("cds.store.corrupt", "wrapped {}: {} bytes", label, wrapped.size());
  }
  return crypto::AeadOpen(crypto::AeadAlgorithm::kChaCha20Poly1305, master_key,
                          wrapped.first(crypto::kAeadNonceSize),
                          wrapped.subspan(crypto::kAeadNonceSize), WrapAad(label));
}

Result<Bytes> Cds::Impl::Wrap(std::string_view label, ByteSpan plaintext) const {
  return WrapUnder(master_key, label, plaintext);
}

Result<Bytes> Cds::Impl::Unwrap(std::string_view label, ByteSpan wrapped) const {
  return UnwrapUnder(master_key, label, wrapped);
}

// ---- bootstrap ----

Cds::Cds(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Cds::~Cds() = default;

Result<std::unique_ptr<Cds>> Cds::Open(CdsOptions options) {
  if (options.state_dir.empty()) {
    return InvalidArgument("cds.config.state_dir", "a state folder is required");
  }
  if (!options.verifier) return InvalidArgument("cds.config.verifier", "a verifier is required");
  if (options.nonce_ttl.count() <= 0 || options.certificate_lifetime.count() <= 0) {
    return InvalidArgument("cds.config.bad_value",
                           "nonce_ttl and certificate_lifetime must be > 0");
  }
  auto op = crypto::PublicKey::FromPem(options.operator_key_pem);
  if (!op.ok() || op->Type() != crypto::KeyType::kEcP256) {
    return InvalidArgument("cds.config.operator_key",
                           "the operator key must be a P-256 public key PEM{}",
                           op.ok() ? "" : ": " + op.error().message());
  }
  const Clock* clock = options.clock ? options.clock : &SystemClock::Instance();
  LUNAL_RETURN_IF_ERROR(EnsureDirectory(options.state_dir, 0700));
  LUNAL_ASSIGN_OR_RETURN(Bytes master, LoadOrCreateMasterKey(options));
  LUNAL_ASSIGN_OR_RETURN(auto store, internal::Store::Open(options.state_dir / "cds.db"));

  // The CA key: generated here on first start and stored only wrapped under the master key.
  LUNAL_ASSIGN_OR_RETURN(std::optional<Bytes> wrapped, store->GetKv("ca_key"));
  LUNAL_ASSIGN_OR_RETURN(std::optional<Bytes> stored_cert, store->GetKv("ca_cert"));
  std::unique_ptr<Impl> impl;
  if (!wrapped || !stored_cert) {
    LUNAL_ASSIGN_OR_RETURN(crypto::PrivateKey key,
                           crypto::PrivateKey::Generate(crypto::KeyType::kEcP256));
    LUNAL_ASSIGN_OR_RETURN(crypto::Certificate cert, MakeCaCertificate(key, options, clock->Now()));
    impl =
        std::make_unique<Impl>(std::move(options), std::move(*op), std::move(cert), std::move(key));
    impl->master_key = std::move(master);
    LUNAL_ASSIGN_OR_RETURN(std::string pem, impl->ca_key.ToPkcs8Pem());
    Result<Bytes> sealed = impl->Wrap(kCaKeyLabel, AsBytes(pem));
    crypto::SecureZero(
        std::span<std::uint8_t>(reinterpret_cast<std::uint8_t*>(pem.data()), pem.size()));
    if (!sealed.ok()) return sealed.error();
    LUNAL_RETURN_IF_ERROR(store->InsertKv("ca_key", *sealed));
    LUNAL_RETURN_IF_ERROR(store->InsertKv("ca_cert", AsBytes(impl->ca_cert.ToPem())));
  } else {
    LUNAL_ASSIGN_OR_RETURN(crypto::Certificate cert,
                           crypto::Certificate::FromPem(AsStringView(*stored_cert)));
    Result<Bytes> pem = UnwrapUnder(master, kCaKeyLabel, *wrapped);
    if (!pem.ok()) {
      return InvalidArgument("cds.master_key.mismatch",
                             "the master key does not unwrap the stored CA key ({})",
                             pem.error().reason());
    }
    Result<crypto::PrivateKey> key = crypto::PrivateKey::FromPem(AsStringView(*pem));
    crypto::SecureZero(*pem);
    if (!key.ok()) return key.error();
    impl = std::make_unique<Impl>(std::move(options), std::move(*op), std::move(cert),
                                  std::move(*key));
    impl->master_key = std::move(master);
  }
  impl->clock = clock;
  impl->store = std::move(store);
  impl->ca_pem = impl->ca_cert.ToPem();
  LUNAL_ASSIGN_OR_RETURN(crypto::PublicKey ca_pub, impl->ca_cert.PublicKey());
  LUNAL_ASSIGN_OR_RETURN(Bytes ca_spki, ca_pub.ToSpkiDer());
  impl->ca_key_id = attest::KeyDigest(ca_spki);

  LUNAL_ASSIGN_OR_RETURN(auto latest, impl->store->LatestManifests(1));
  if (!latest.empty()) {
    LUNAL_ASSIGN_OR_RETURN(AllowList list, ParseAllowList(latest.front().payload));
    impl->active = std::move(list);
  }
  return std::unique_ptr<Cds>(new Cds(std::move(impl)));
}

const crypto::Certificate& Cds::ca_certificate() const { return impl_->ca_cert; }

// ---- challenges ----

Result<Challenge> Cds::NewChallenge() {
  const Timestamp now = impl_->clock->Now();
  Challenge c{.nonce = Base64UrlEncode(crypto::RandomBytes(32)),
              .expires_at = now + impl_->options.nonce_ttl};
  LUNAL_RETURN_IF_ERROR(impl_->store->InsertNonce(c.nonce, c.expires_at, now));
  return c;
}

// ---- appraisal: the numbered pipeline of docs/protocols/cds.md "Appraisal" ----

Result<Appraised> Cds::Impl::Appraise(ByteSpan evidence, std::string_view nonce,
                                      std::string_view tenant, std::string_view deployment,
                                      const ExpectedReportData& expected) {
  // 1. The nonce: known, unused (consumed now, whatever happens next), unexpired.
  LUNAL_ASSIGN_OR_RETURN(internal::NonceState state, store->ConsumeNonce(nonce, clock->Now()));
  switch (state) {
    case internal::NonceState::kUnknown:
      return VerificationFailed("cds.nonce.unknown", "the nonce was not issued by this CDS");
    case internal::NonceState::kReplayed:
      return VerificationFailed("cds.nonce.replayed", "the nonce has already been used");
    case internal::NonceState::kExpired:
      return VerificationFailed("cds.nonce.expired", "the nonce expired; request a new challenge");
    case internal::NonceState::kFresh:
      break;
  }
  // 2. The allow-list in force now (its entry sets the TCB minimum the engine checks).
  std::optional<AllowListEntry> entry;
  {
    std::lock_guard lock(mu);
    if (!active) return Unavailable("cds.manifest.none", "no allow-list has been installed");
    if (const AllowListEntry* e = active->Find(tenant, deployment)) entry = *e;
  }
  // 3. The evidence, through the one verification path. Debug and simulation are allowed here
  //    so that the CDS reports them with its own reasons (steps 6, 7); the TCB rules are the
  //    engine's.
  attest::policy::Policy policy;
  policy.allow_simulated = true;
  policy.allow_debug = true;
  if (entry) {
    policy.tdx.min_tee_tcb_svn = entry->min_tcb.tdx_tee_tcb_svn;
    policy.tdx.min_pce_svn = entry->min_tcb.tdx_pce_svn;
    policy.tdx.min_qe_isv_svn = entry->min_tcb.tdx_qe_isv_svn;
    policy.snp.min_tcb = {.boot_loader = entry->min_tcb.snp_boot_loader,
                          .tee = entry->min_tcb.snp_tee,
                          .snp = entry->min_tcb.snp_snp,
                          .microcode = entry->min_tcb.snp_microcode};
  }
  LUNAL_ASSIGN_OR_RETURN(
      attest::engine::VerifyResponse verified,
      options.verifier->Verify(
          {.evidence = Bytes(evidence.begin(), evidence.end()), .policy = policy}));
  if (verified.verdict == attest::engine::Verdict::kFailed) return verified.error;
  if (verified.verdict == attest::engine::Verdict::kRejected) {
    std::string reasons;
    const Json violations = verified.record.value("attestation", Json::object())
                                .value("policy", Json::object())
                                .value("violations", Json::array());
    for (const Json& v : violations) {
      if (!reasons.empty()) reasons += ", ";
      reasons += v.value("reason", "?");
    }
    return PolicyViolation("cds.policy.tcb", "the platform's TCB is below the minimum: {}",
                           reasons);
  }
  const Json& e = verified.essentials;
  Appraised out;
  out.build_hash = e.contains("build_hash") && e["build_hash"].is_string()
                       ? e["build_hash"].get<std::string>()
                       : std::string();
  out.tee = TeeName(e);
  out.simulated = e.value("simulated", false);
  out.tcb_status = e.contains("tcb_status") && e["tcb_status"].is_string()
                       ? e["tcb_status"].get<std::string>()
                       : std::string();
  out.essentials = e;
  // 4. REPORT_DATA binds exactly what the requester says, all 64 bytes.
  LUNAL_ASSIGN_OR_RETURN(attest::ReportData want, expected(out.build_hash));
  auto got = HexDecode(e.value("report_data", ""));
  if (!got.ok() || !ConstantTimeEqual(*got, want)) {
    return VerificationFailed("cds.binding.mismatch",
                              "REPORT_DATA does not bind this key, nonce and build hash");
  }
  // 5. The allow-list entry names the build (and the measurements, when it lists any).
  if (!entry) {
    return PolicyViolation("cds.allow_list.no_entry", "the allow-list has no entry for {}/{}",
                           tenant, deployment);
  }
  if (out.build_hash.empty() || std::find(entry->build_hashes.begin(), entry->build_hashes.end(),
                                          out.build_hash) == entry->build_hashes.end()) {
    return PolicyViolation("cds.allow_list.build_hash",
                           "build hash {} is not on the allow-list for {}/{}",
                           out.build_hash.empty() ? "(none)" : out.build_hash, tenant, deployment);
  }
  const Json measurements = e.value("measurements", Json::object());
  for (const auto& [name, accepted] : entry->measurements) {
    if (accepted.empty()) continue;
    const std::string actual = measurements.value(name, "");
    if (std::find(accepted.begin(), accepted.end(), actual) == accepted.end()) {
      return PolicyViolation("cds.allow_list.measurement", "{} {} is not on the allow-list", name,
                             actual.empty() ? "(absent)" : actual);
    }
  }
  // 6. Never a debug TD / guest: its memory is readable by the host.
  if (e.value("debug", true)) {
    return PolicyViolation("cds.policy.debug", "the TEE runs in debug mode");
  }
  // 7. Simulated evidence only where the entry allows it.
  if (out.simulated && !entry->allow_simulated) {
    return PolicyViolation("cds.policy.simulated",
                           "simulated evidence, and the allow-list entry for {}/{} does not allow "
                           "simulation",
                           tenant, deployment);
  }
  out.entry = std::move(*entry);
  return out;
}

// ---- certificates ----

Result<IssuedCertificate> Cds::IssueCertificate(const CertificateRequest& request) {
  LUNAL_RETURN_IF_ERROR(CheckName("tenant", request.tenant));
  LUNAL_RETURN_IF_ERROR(CheckName("deployment", request.deployment));
  LUNAL_RETURN_IF_ERROR(CheckName("instance", request.instance));
  if (request.nonce.empty() || request.evidence.empty() || request.csr_pem.empty()) {
    return InvalidArgument("cds.request.bad_field", "nonce, evidence and csr are required");
  }
  // The CSR is parsed before the nonce is consumed only as far as needed to fail fast on
  // garbage; proof of possession is part of it.
  LUNAL_ASSIGN_OR_RETURN(crypto::ParsedCsr csr, crypto::ParseCsrPem(request.csr_pem));
  if (csr.public_key.Type() != crypto::KeyType::kEcP256) {
    return InvalidArgument("cds.request.bad_field", "csr: the instance key must be P-256, not {}",
                           crypto::KeyTypeName(csr.public_key.Type()));
  }
  const std::string nonce = request.nonce;
  const Bytes spki = csr.spki_der;
  LUNAL_ASSIGN_OR_RETURN(
      Appraised a,
      impl_->Appraise(request.evidence, request.nonce, request.tenant, request.deployment,
                      [&](const std::string& build_hash) {
                        return attest::ReportDataFor(
                            {.key_spki_der = spki, .nonce = nonce, .build_hash = build_hash});
                      }));

  // The mesh certificate profile (src/mesh/include/lunal/mesh/profile.h).
  const Timestamp now = impl_->clock->Now();
  const auto not_before = ToSeconds(now) - std::chrono::seconds(60);
  const auto not_after = ToSeconds(now) + impl_->options.certificate_lifetime;
  const std::string uri = fmt::format("{}://{}/{}/{}", mesh::kUriScheme, request.tenant,
                                      request.deployment, request.instance);
  crypto::CertificateBuilder builder;
  builder.SubjectCommonName(request.instance)
      .Validity(not_before, not_after)
      .SubjectKey(csr.public_key)
      .Ca(false)
      .KeyUsageBits(crypto::kKeyUsageDigitalSignature)
      .ExtendedKeyUsage({std::string(kServerAuth), std::string(kClientAuth)})
      .AddSanUri(uri)
      .AddExtension(std::string(mesh::kOidBuildHash), mesh::Utf8StringDer(a.build_hash), false)
      .AddExtension(std::string(mesh::kOidTeeType), mesh::Utf8StringDer(a.tee), false);
  if (a.simulated) {
    builder.AddExtension(std::string(mesh::kOidSimulated), Bytes{0x01, 0x01, 0xff}, false);
  }
  LUNAL_ASSIGN_OR_RETURN(crypto::Certificate cert, builder.SignWith(impl_->ca_cert, impl_->ca_key));

  Json summary = a.essentials;
  summary.erase("report_data");
  LUNAL_RETURN_IF_ERROR(impl_->store->InsertIdentity({.serial = cert.SerialHex(),
                                                      .tenant = request.tenant,
                                                      .deployment = request.deployment,
                                                      .instance = request.instance,
                                                      .build_hash = a.build_hash,
                                                      .tee = a.tee,
                                                      .simulated = a.simulated,
                                                      .tcb_status = a.tcb_status,
                                                      .issued_at = now,
                                                      .expires_at = FromSeconds(not_after),
                                                      .summary_json = summary.dump()}));
  return IssuedCertificate{.certificate_pem = cert.ToPem(),
                           .ca_pem = impl_->ca_pem,
                           .serial_hex = cert.SerialHex(),
                           .not_before = FromSeconds(not_before),
                           .not_after = FromSeconds(not_after),
                           .uri = uri,
                           .build_hash = a.build_hash,
                           .tee = a.tee,
                           .simulated = a.simulated};
}

// ---- manifests ----

Status Cds::PutManifest(std::string_view envelope_json) {
  LUNAL_ASSIGN_OR_RETURN(VerifiedManifest m,
                         VerifyManifestEnvelope(envelope_json, impl_->operator_key));
  // Countersign: the CDS attests "this is what I enforce" (docs/protocols/cds.md).
  crypto::DsseEnvelope countersigned = m.envelope;
  LUNAL_ASSIGN_OR_RETURN(crypto::DsseSignature cds_sig,
                         crypto::SignDsse(countersigned, impl_->ca_key, impl_->ca_key_id));
  countersigned.signatures.push_back(std::move(cds_sig));
  std::lock_guard lock(impl_->mu);  // install and activate as one step
  LUNAL_RETURN_IF_ERROR(
      impl_->store->PutManifest(m.list.version, crypto::SerializeDsse(countersigned),
                                AsStringView(m.envelope.payload), impl_->clock->Now()));
  impl_->active = std::move(m.list);
  return Status::Ok();
}

Result<Json> Cds::ManifestDocument() {
  LUNAL_ASSIGN_OR_RETURN(auto latest, impl_->store->LatestManifests(2));
  auto entry = [&](std::size_t i) -> Result<Json> {
    if (i >= latest.size()) return Json(nullptr);
    LUNAL_ASSIGN_OR_RETURN(Json envelope, ParseJson(latest[i].envelope));
    return Json{{"version", latest[i].version}, {"envelope", std::move(envelope)}};
  };
  LUNAL_ASSIGN_OR_RETURN(Json active, entry(0));
  LUNAL_ASSIGN_OR_RETURN(Json previous, entry(1));
  return Json{{"active", std::move(active)},
              {"previous", std::move(previous)},
              {"cds_key_id", impl_->ca_key_id}};
}

std::optional<AllowList> Cds::ActiveAllowList() const {
  std::lock_guard lock(impl_->mu);
  return impl_->active;
}

// ---- beacons ----

Result<Beacon> Cds::NewBeacon() {
  Beacon b{.time = FormatRfc3339(impl_->clock->Now()), .signature = {}};
  LUNAL_ASSIGN_OR_RETURN(
      b.signature,
      crypto::SignEcdsaDer(impl_->ca_key, crypto::DigestAlgorithm::kSha256, BeaconMessage(b.time)));
  return b;
}

// ---- registry ----

Result<Json> Cds::Registry(std::size_t limit) {
  LUNAL_ASSIGN_OR_RETURN(auto identities, impl_->store->Identities(limit));
  Json out = Json::array();
  for (const internal::Identity& id : identities) {
    auto summary = ParseJson(id.summary_json);
    out.push_back({{"serial", id.serial},
                   {"tenant", id.tenant},
                   {"deployment", id.deployment},
                   {"instance", id.instance},
                   {"build_hash", id.build_hash},
                   {"tee", id.tee},
                   {"simulated", id.simulated},
                   {"tcb_status", id.tcb_status.empty() ? Json(nullptr) : Json(id.tcb_status)},
                   {"issued_at", FormatRfc3339(id.issued_at)},
                   {"expires_at", FormatRfc3339(id.expires_at)},
                   {"evidence", summary.ok() ? *summary : Json(nullptr)}});
  }
  return Json{{"identities", std::move(out)}};
}

}  // namespace lunal::cds
