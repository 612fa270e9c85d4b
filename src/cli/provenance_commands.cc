#include "provenance_commands.h"

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "lunal/attest/collateral/folder_source.h"
#include "lunal/attest/engine/sim_source.h"
#include "lunal/attest/engine/verifier.h"
#include "lunal/attest/sim/simulation_root.h"
#include "lunal/build/provenance.h"
#include "lunal/cli/output.h"
#include "lunal/common/encoding.h"
#include "lunal/common/files.h"
#include "lunal/common/json.h"
#include "lunal/common/time.h"
#include "lunal/crypto/digest.h"
#include "lunal/crypto/keys.h"
#include "lunal/crypto/x509.h"

namespace lunal::cli {

namespace fs = std::filesystem;

struct ProvenanceCommandsState {
  CLI::App* verify = nullptr;
  std::string provenance;
  std::string key;
  std::vector<std::string> artifacts;
  std::string build_hash;
  std::string sim_root;
  std::vector<std::string> collateral;
};

namespace {

constexpr std::size_t kMaxProvenanceBytes = std::size_t{16} << 20;

// SHA-256 of a file, streamed (artifacts may be large).
Result<std::string> FileSha256(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::error_code ec;
  if (!fs::is_regular_file(path, ec) || !in) {
    return NotFound("cli.file_not_found", "--artifact {}: no such file", path);
  }
  crypto::Hasher hasher(crypto::DigestAlgorithm::kSha256);
  std::vector<char> buffer(std::size_t{1} << 20);
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    const auto n = static_cast<std::size_t>(in.gcount());
    hasher.Update(ByteSpan(reinterpret_cast<const std::uint8_t*>(buffer.data()), n));
  }
  if (in.bad()) return Unavailable("cli.read_failed", "--artifact {}: cannot read", path);
  return HexEncode(hasher.Finish());
}

// The evidence verifier for attested builders: the simulation root (a state folder, whose
// collateral is regenerated locally, or a root certificate with --collateral) and/or folders of
// vendor collateral. Null when neither flag is given.
Result<std::unique_ptr<attest::engine::EvidenceVerifier>> MakeEvidenceVerifier(
    const ProvenanceCommandsState& s) {
  if (s.sim_root.empty() && s.collateral.empty()) return nullptr;
  attest::engine::LocalVerifierOptions options;
  std::error_code ec;
  const bool sim_certificate = !s.sim_root.empty() && !fs::is_directory(s.sim_root, ec);
  std::shared_ptr<attest::collateral::CollateralSource> folders;
  if (!s.collateral.empty() && !sim_certificate) {  // vendor collateral (Intel's, AMD's)
    attest::collateral::FolderSourceOptions folder_options;
    folder_options.folders.assign(s.collateral.begin(), s.collateral.end());
    LUNAL_ASSIGN_OR_RETURN(folders, attest::collateral::FolderSource::Open(folder_options));
  }
  options.collateral = folders;
  if (!s.sim_root.empty() && !sim_certificate) {
    // Never create a simulation root here: only open one that exists.
    if (!fs::is_regular_file(fs::path(s.sim_root) / "root-ca.pem", ec)) {
      return InvalidArgument("cli.bad_sim_root",
                             "--sim-root {}: no root-ca.pem (not a sim-tdx state folder)",
                             s.sim_root);
    }
    LUNAL_ASSIGN_OR_RETURN(auto root,
                           attest::sim::SimulationRoot::Open(s.sim_root, SystemClock::Instance()));
    options.simulated_anchors.push_back(root->Anchor());
    options.collateral = attest::engine::MakeSimulationSource(root, folders);
  } else if (sim_certificate) {
    // A verifier elsewhere: the root certificate, and --collateral folders holding that root's
    // collateral (SimulationRoot::WriteCollateral) instead of Intel's.
    LUNAL_ASSIGN_OR_RETURN(std::string text, ReadFile(s.sim_root));
    auto chain = crypto::ParsePemChain(text);
    Result<crypto::Certificate> cert = chain.ok() && !chain->empty()
                                           ? Result<crypto::Certificate>(std::move(chain->front()))
                                           : crypto::Certificate::FromDer(AsBytes(text));
    if (!cert.ok()) return std::move(cert).error().WithContext("--sim-root " + s.sim_root + ": ");
    if (s.collateral.empty()) {
      return InvalidArgument("cli.no_collateral",
                             "--sim-root {} is a certificate: pass --collateral with the "
                             "simulation root's collateral (or give the state folder instead)",
                             s.sim_root);
    }
    const crypto::TrustAnchor anchor{.der_sha256 = crypto::Sha256(cert->Der()),
                                     .label = "Lunal Simulation Root CA (trusted by --sim-root)"};
    attest::collateral::FolderSourceOptions folder_options;
    folder_options.folders.assign(s.collateral.begin(), s.collateral.end());
    folder_options.pool_options = {
        .anchors = {anchor},
        .extra_certificates = {*cert},
        .tcb_signer_common_name = std::string(attest::sim::kTcbSigningCommonName)};
    LUNAL_ASSIGN_OR_RETURN(options.collateral,
                           attest::collateral::FolderSource::Open(folder_options));
    options.simulated_anchors.push_back(anchor);
  }
  return attest::engine::MakeLocalVerifier(std::move(options));
}

void PrintHuman(const build::VerifiedProvenance& v, const std::string& file) {
  fmt::print("✅ Provenance verified: {}\n", file);
  fmt::print("Builder:      {}\n", v.builder_id);
  fmt::print("Build type:   {}\n", v.build_type);
  if (!v.build_hash.empty()) fmt::print("Build hash:   {}\n", v.build_hash);
  fmt::print("Signed by:    {} ({})\n", v.key_id,
             v.attested ? fmt::format("attested builder, {} evidence", v.tee) : "pinned key");
  fmt::print("Subjects:\n");
  for (const build::Subject& s : v.subjects) fmt::print("  {}  sha256:{}\n", s.name, s.sha256_hex);
  if (v.simulated) {
    fmt::print(
        "⚠️  SIMULATED: the builder's evidence comes from sim-tdx. No hardware protected the "
        "build.\n");
  }
}

Json VerifiedJson(const build::VerifiedProvenance& v, const std::string& file) {
  Json subjects = Json::array();
  for (const build::Subject& s : v.subjects) {
    subjects.push_back({{"name", s.name}, {"digest", {{"sha256", s.sha256_hex}}}});
  }
  Json out = {{"verified", true},           {"provenance", file},
              {"key_id", v.key_id},         {"attested", v.attested},
              {"simulated", v.simulated},   {"builder_id", v.builder_id},
              {"build_type", v.build_type}, {"subjects", std::move(subjects)}};
  if (!v.build_hash.empty()) out["build_hash"] = v.build_hash;
  if (v.attested) {
    out["tee"] = v.tee;
    out["evidence"] = v.evidence_record;
  }
  return out;
}

Result<build::VerifiedProvenance> Verify(const ProvenanceCommandsState& s) {
  Result<std::string> envelope = ReadFile(s.provenance, {.max_bytes = kMaxProvenanceBytes});
  if (!envelope.ok()) return envelope.error().WithContext("--provenance: ");
  build::ProvenanceVerifyOptions options;
  if (!s.key.empty()) {
    Result<std::string> pem = ReadFile(s.key);
    if (!pem.ok()) return pem.error().WithContext("--key: ");
    Result<crypto::PublicKey> key = crypto::PublicKey::FromPem(*pem);
    if (!key.ok()) return key.error().WithContext("--key " + s.key + ": ");
    LUNAL_ASSIGN_OR_RETURN(options.trusted_key_spki, key->ToSpkiDer());
  }
  for (const std::string& artifact : s.artifacts) {
    LUNAL_ASSIGN_OR_RETURN(std::string digest, FileSha256(artifact));
    options.expected_subjects.push_back(
        {.name = fs::path(artifact).filename().string(), .sha256_hex = std::move(digest)});
  }
  options.expected_build_hash = s.build_hash;
  LUNAL_ASSIGN_OR_RETURN(auto verifier, MakeEvidenceVerifier(s));
  options.evidence_verifier = verifier.get();
  return build::VerifyProvenance(*envelope, options);
}

}  // namespace

ProvenanceCommands::ProvenanceCommands(std::unique_ptr<ProvenanceCommandsState> state)
    : state_(std::move(state)) {}
ProvenanceCommands::ProvenanceCommands(ProvenanceCommands&&) noexcept = default;
ProvenanceCommands& ProvenanceCommands::operator=(ProvenanceCommands&&) noexcept = default;
ProvenanceCommands::~ProvenanceCommands() = default;

ProvenanceCommands AddProvenanceCommands(CLI::App& app) {
  auto state = std::make_unique<ProvenanceCommandsState>();
  ProvenanceCommandsState& s = *state;
  CLI::App* provenance = app.add_subcommand("provenance", "Verify build provenance");
  provenance->require_subcommand(1);
  s.verify = provenance->add_subcommand(
      "verify",
      "Verify a build's provenance: an in-toto Statement v1 with a SLSA Provenance v1\n"
      "predicate in a DSSE envelope (what `lunal build` writes as provenance.dsse.json). The\n"
      "signature must be by a builder key you trust: one you pin with --key, or one an\n"
      "attested builder's TEE evidence binds (checked with --sim-root / --collateral).\n"
      "Then the statement's subjects and build hash are compared with what you expect.");
  s.verify
      ->add_option("--provenance", s.provenance, "The DSSE envelope, e.g. out/provenance.dsse.json")
      ->required();
  s.verify->add_option("--key", s.key,
                       "The builder's public key (PEM, \"BEGIN PUBLIC KEY\") to pin");
  s.verify->add_option("--artifact", s.artifacts,
                       "An artifact that must be a subject with the same SHA-256, matched by\n"
                       "file name (e.g. out/app.tar is subject \"app.tar\"); repeatable");
  s.verify->add_option("--build-hash", s.build_hash,
                       "The build hash the provenance must name (sha256:..., as hash.txt has it)");
  s.verify->add_option("--sim-root", s.sim_root,
                       "Trust an attested builder running under sim-tdx (development only): the\n"
                       "simulation state folder (e.g. .lunal/sim-tdx), or its root-ca.pem with\n"
                       "--collateral holding the simulated collateral");
  s.verify->add_option("--collateral", s.collateral,
                       "Folder of vendor collateral to verify an attested builder's TDX/SNP\n"
                       "evidence (as for `lunal attestation verify`); repeatable");
  s.verify->footer(
      "Examples:\n"
      "  lunal provenance verify --provenance out/provenance.dsse.json --key builder.pub.pem \\\n"
      "      --artifact out/app.tar --build-hash \"$(cat out/hash.txt)\"\n"
      "  lunal provenance verify --provenance out/provenance.dsse.json --sim-root .lunal/sim-tdx\n"
      "Nothing is trusted by default: without --key, --sim-root or --collateral the provenance\n"
      "is refused (provenance.untrusted_key). A key inside the envelope counts only when TEE\n"
      "evidence that verifies binds it. Failures name a stable reason, e.g.\n"
      "provenance.bad_signature, provenance.subject_mismatch, provenance.evidence_binding.\n"
      "Exit status: 0 verified, 1 not verified, 2 bad usage or malformed input, 5 no such "
      "file.");
  return ProvenanceCommands(std::move(state));
}

std::optional<int> RunProvenanceCommands(ProvenanceCommands& commands, bool json) {
  ProvenanceCommandsState& s = commands.state();
  if (!s.verify->parsed()) return std::nullopt;
  Result<build::VerifiedProvenance> verified = Verify(s);
  if (!verified.ok()) {
    if (json) {
      Json out = ErrorJson(verified.error());
      out["verified"] = false;
      PrintJson(out);
      return ExitCodeFor(verified.error().code());
    }
    return ReportError(verified.error(), json);
  }
  if (json) {
    PrintJson(VerifiedJson(*verified, s.provenance));
  } else {
    PrintHuman(*verified, s.provenance);
  }
  return kExitOk;
}

}  // namespace lunal::cli
