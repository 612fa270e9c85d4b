// SimulationRoot: the state directory (generate on first start, load thereafter) and signing.
// Collateral is in sim_collateral.cc, certificate profiles in sim_pki.cc.
#include "lunal/attest/sim/simulation_root.h"

#include <functional>
#include <optional>
#include <utility>

#include "lunal/attest/sim/platform.h"
#include "lunal/common/encoding.h"
#include "lunal/common/files.h"
#include "lunal/crypto/digest.h"
#include "lunal/crypto/signature.h"
#include "sim_pki.h"

namespace lunal::attest::sim {
namespace {

namespace fs = std::filesystem;
using crypto::Certificate;
using crypto::PrivateKey;

constexpr mode_t kDirMode = 0700;
constexpr mode_t kKeyMode = 0600;
constexpr mode_t kCertMode = 0644;

// lunal/common/files.h errors as this component publishes them (simulation_root.h): a key others
// may read is sim.state.key_permissions, anything else sim.state.io; the message (with the path)
// is kept.
Status StateError(const Status& s) {
  if (s.ok()) return s;
  if (s.reason() == "file.insecure_permissions") {
    return PermissionDenied("sim.state.key_permissions",
                            "{}; a private key must be readable by its owner only", s.message());
  }
  return Unavailable("sim.state.io", s.message());
}

template <typename T>
Result<T> StateError(Result<T> r) {
  if (r.ok()) return r;
  return StateError(r.error());
}

// A generation or signing failure inside lunal::crypto is our problem, not the caller's input.
Status AsInternal(const Status& s, std::string_view what) {
  return Status(Code::kInternal, s.reason(), fmt::format("{}: {}", what, s.message()));
}

// 1. A key: loaded (private to its owner, P-256) or, when absent, generated and written.
Result<PrivateKey> LoadOrCreateKey(const fs::path& path) {
  // Private: no group/other bits (checked on the open file), no symbolic link.
  LUNAL_ASSIGN_OR_RETURN(std::optional<std::string> text,
                         StateError(ReadFileIfExists(path, {.require_private = true})));
  if (!text) {
    auto key = PrivateKey::Generate(crypto::KeyType::kEcP256);
    if (!key.ok()) return AsInternal(key.error(), "generating a P-256 key");
    auto pem = key->ToPkcs8Pem();
    if (!pem.ok()) return AsInternal(pem.error(), "encoding a P-256 key");
    LUNAL_RETURN_IF_ERROR(StateError(WriteFileAtomically(path, *pem, kKeyMode)));
    return key;
  }
  auto key = PrivateKey::FromPem(*text);
  if (!key.ok()) {
    return Malformed("sim.state.bad_key", "{} is not a PEM private key: {}", path.string(),
                     key.error().message());
  }
  if (key->Type() != crypto::KeyType::kEcP256) {
    return Malformed("sim.state.bad_key", "{} holds a {} key; the simulation uses P-256",
                     path.string(), crypto::KeyTypeName(key->Type()));
  }
  return key;
}

// 2. A certificate for `key`: loaded and checked (its key, its issuer's signature), or issued
// and written when absent.
Result<Certificate> LoadOrIssueCertificate(const fs::path& path, const PrivateKey& key,
                                           const Certificate* issuer,
                                           const std::function<Result<Certificate>()>& issue) {
  LUNAL_ASSIGN_OR_RETURN(std::optional<std::string> text, StateError(ReadFileIfExists(path)));
  if (!text) {
    auto cert = issue();
    if (!cert.ok()) return AsInternal(cert.error(), fmt::format("issuing {}", path.string()));
    LUNAL_RETURN_IF_ERROR(StateError(WriteFileAtomically(path, cert->ToPem(), kCertMode)));
    return cert;
  }
  auto cert = Certificate::FromPem(*text);
  if (!cert.ok()) {
    return Malformed("sim.state.bad_certificate", "{} is not one PEM certificate: {}",
                     path.string(), cert.error().message());
  }
  LUNAL_ASSIGN_OR_RETURN(crypto::PublicKey want, key.PublicKey());
  auto have = cert->PublicKey();
  if (!have.ok() || !(*have == want)) {
    return Malformed("sim.state.key_mismatch",
                     "{} is not the certificate of the key beside it; remove it to re-issue it",
                     path.string());
  }
  const bool signed_ok =
      issuer == nullptr ? cert->IsSelfSigned() : cert->VerifySignedBy(*issuer).ok();
  if (!signed_ok) {
    return Malformed("sim.state.wrong_issuer", "{} was not issued by {}; remove it to re-issue it",
                     path.string(),
                     issuer == nullptr ? std::string("itself") : issuer->SubjectCommonName());
  }
  return cert;
}

// A key and its certificate, "<stem>.key.pem" and "<stem>.pem". A certificate whose key is gone
// cannot be recovered (re-issuing it under a new key is the caller's decision: remove it).
Result<std::pair<PrivateKey, Certificate>> LoadOrCreatePair(
    const fs::path& dir, std::string_view stem, const Certificate* issuer,
    const std::function<Result<Certificate>(const PrivateKey&)>& issue) {
  const fs::path key_path = dir / (std::string(stem) + ".key.pem");
  const fs::path cert_path = dir / (std::string(stem) + ".pem");
  std::error_code ec;
  if (!fs::exists(key_path, ec) && fs::exists(cert_path, ec)) {
    return Malformed("sim.state.missing_key",
                     "{} exists but its key {} does not; remove the certificate to issue a new "
                     "one (or remove {} to start a new simulation root)",
                     cert_path.string(), key_path.string(), dir.string());
  }
  LUNAL_ASSIGN_OR_RETURN(PrivateKey key, LoadOrCreateKey(key_path));
  LUNAL_ASSIGN_OR_RETURN(
      Certificate cert, LoadOrIssueCertificate(cert_path, key, issuer, [&] { return issue(key); }));
  return std::pair{std::move(key), std::move(cert)};
}

// 3. The PCK certificate must describe the platform this build simulates (platform.h).
Result<tdx::PckExtensions> CheckPck(const Certificate& pck, const fs::path& path) {
  auto der = pck.Extension(tdx::kSgxExtensionOid);
  if (!der) {
    return Malformed("sim.state.bad_certificate", "{} has no SGX extension ({})", path.string(),
                     tdx::kSgxExtensionOid);
  }
  auto ext = tdx::ParsePckExtensions(*der);
  if (!ext.ok()) {
    return Malformed("sim.state.bad_certificate", "{}: SGX extension: {}", path.string(),
                     ext.error().message());
  }
  if (ext->fmspc != kFmspc || ext->pce_id != kPceId ||
      ext->sgx_tcb_components != kSgxTcbComponents || ext->pce_svn != kPceSvn) {
    return Malformed("sim.state.bad_certificate",
                     "{} describes FMSPC {} with TCB {} / PCESVN {}; this build simulates FMSPC "
                     "{} with TCB {} / PCESVN {}: remove it to re-issue it",
                     path.string(), ext->FmspcHex(), HexEncode(ext->sgx_tcb_components),
                     ext->pce_svn, HexEncode(kFmspc), HexEncode(kSgxTcbComponents), kPceSvn);
  }
  return ext;
}

}  // namespace

SimulationRoot::SimulationRoot(fs::path state_dir, std::unique_ptr<const Keys> keys,
                               Certificate root, Certificate ca, Certificate pck, Certificate tcb,
                               tdx::PckExtensions extensions, Bytes attestation_point)
    : state_dir_(std::move(state_dir)),
      keys_(std::move(keys)),
      root_cert_(std::move(root)),
      ca_cert_(std::move(ca)),
      pck_cert_(std::move(pck)),
      tcb_cert_(std::move(tcb)),
      pck_extensions_(extensions),
      attestation_point_(std::move(attestation_point)) {
  // Certification data type 5: the PEM chain leaf first, NUL-terminated as Intel's QE writes it.
  pck_chain_data_ = pck_cert_.ToPem() + ca_cert_.ToPem() + root_cert_.ToPem();
  pck_chain_data_.push_back('\0');
}

SimulationRoot::~SimulationRoot() = default;

Result<std::shared_ptr<const SimulationRoot>> SimulationRoot::Open(const fs::path& state_dir,
                                                                   const Clock& clock) {
  LUNAL_RETURN_IF_ERROR(StateError(EnsureDirectory(state_dir, kDirMode)));
  LUNAL_ASSIGN_OR_RETURN(FileLock lock, StateError(FileLock::Acquire(state_dir / "lock")));
  const Timestamp now = clock.Now();

  LUNAL_ASSIGN_OR_RETURN(
      auto root, LoadOrCreatePair(state_dir, "root-ca", nullptr, [&](const PrivateKey& key) {
        return internal::IssueRoot(key, now);
      }));
  LUNAL_ASSIGN_OR_RETURN(
      auto ca,
      LoadOrCreatePair(state_dir, "pck-platform-ca", &root.second, [&](const PrivateKey& key) {
        return internal::IssuePckPlatformCa(key, root.second, root.first, now);
      }));
  LUNAL_ASSIGN_OR_RETURN(auto pck,
                         LoadOrCreatePair(state_dir, "pck", &ca.second, [&](const PrivateKey& key) {
                           return internal::IssuePck(key, ca.second, ca.first, now);
                         }));
  LUNAL_ASSIGN_OR_RETURN(
      auto tcb,
      LoadOrCreatePair(state_dir, "tcb-signing", &root.second, [&](const PrivateKey& key) {
        return internal::IssueTcbSigning(key, root.second, root.first, now);
      }));
  LUNAL_ASSIGN_OR_RETURN(tdx::PckExtensions extensions,
                         CheckPck(pck.second, state_dir / "pck.pem"));
  LUNAL_ASSIGN_OR_RETURN(PrivateKey attestation,
                         LoadOrCreateKey(state_dir / "attestation.key.pem"));
  LUNAL_ASSIGN_OR_RETURN(crypto::PublicKey attestation_public, attestation.PublicKey());
  LUNAL_ASSIGN_OR_RETURN(Bytes point, attestation_public.EcPoint());

  auto keys = std::make_unique<const Keys>(Keys{.root = std::move(root.first),
                                                .ca = std::move(ca.first),
                                                .pck = std::move(pck.first),
                                                .tcb = std::move(tcb.first),
                                                .attestation = std::move(attestation)});
  return std::make_shared<const SimulationRoot>(state_dir, std::move(keys), root.second, ca.second,
                                                pck.second, tcb.second, extensions,
                                                std::move(point));
}

crypto::TrustAnchor SimulationRoot::Anchor() const {
  return crypto::TrustAnchor{.der_sha256 = root_cert_.Sha256OfDer(),
                             .label = std::string(kRootCommonName)};
}

std::string SimulationRoot::FingerprintHex() const { return HexEncode(root_cert_.Sha256OfDer()); }

Result<Bytes> SimulationRoot::SignQeReport(ByteSpan qe_report) const {
  return crypto::SignEcdsaRaw(keys_->pck, crypto::DigestAlgorithm::kSha256, qe_report);
}

Result<Bytes> SimulationRoot::SignQuote(ByteSpan signed_region) const {
  return crypto::SignEcdsaRaw(keys_->attestation, crypto::DigestAlgorithm::kSha256, signed_region);
}

tdx::PoolOptions SimulationRoot::PoolOptions() const {
  tdx::PoolOptions options;
  options.anchors = {Anchor()};
  options.extra_certificates = {root_cert_};
  options.tcb_signer_common_name = std::string(kTcbSigningCommonName);
  return options;
}

}  // namespace lunal::attest::sim
