// `lunal attestation verify`: the engine's LocalVerifier (src/attest/engine) over local files,
// printed for people or as the verification record (--json). The service and the CDS use the same
// engine, so a file gets the same verdict here as over HTTP.
#include "attestation_verify.h"

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "lunal/attest/collateral/folder_source.h"
#include "lunal/attest/engine/verifier.h"
#include "lunal/attest/policy/policy.h"
#include "lunal/cli/output.h"
#include "lunal/common/encoding.h"
#include "lunal/common/time.h"
#include "lunal/crypto/digest.h"
#include "lunal/crypto/x509.h"

namespace lunal::cli {
namespace {

namespace fs = std::filesystem;
namespace engine = attest::engine;

constexpr std::size_t kMaxEvidenceBytes = 16u << 20;

// Reads the file named by `flag` (bounded, so a wrong path cannot exhaust memory).
Result<Bytes> ReadInputFile(std::string_view flag, const std::string& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) {
    return InvalidArgument("cli.file_not_found", "{} {}: no such file", flag, path);
  }
  if (fs::file_size(path, ec) > kMaxEvidenceBytes) {
    return InvalidArgument("cli.file_too_large", "{} {}: larger than {} MiB", flag, path,
                           kMaxEvidenceBytes >> 20);
  }
  std::ifstream in(path, std::ios::binary);
  Bytes bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in.good() && !in.eof()) {
    return Unavailable("cli.read_failed", "{} {}: cannot read", flag, path);
  }
  return bytes;
}

// --cert FILE, or a folder of KDS-named certificates (vcek.der, vcek.pem, vlek.der, vlek.pem:
// the names AMD's KDS and snpguest use; the ARK/ASK beside them are ignored, AMD's are built in).
Result<Bytes> ReadCert(const std::string& path) {
  std::error_code ec;
  if (!fs::is_directory(path, ec)) return ReadInputFile("--cert", path);
  for (const char* name : {"vcek.der", "vcek.pem", "vlek.der", "vlek.pem"}) {
    if (fs::is_regular_file(fs::path(path) / name, ec)) {
      return ReadInputFile("--cert", (fs::path(path) / name).string());
    }
  }
  return InvalidArgument("cli.file_not_found",
                         "--cert {}: the folder holds none of vcek.der, vcek.pem, vlek.der, "
                         "vlek.pem",
                         path);
}

Result<engine::VerifyRequest> BuildRequest(const VerifyFlags& flags) {
  engine::VerifyRequest request;
  if (!flags.at.empty()) {
    auto at = ParseRfc3339(flags.at);
    if (!at.ok()) return std::move(at).error().WithContext("--at");
    request.as_of = *at;
  }
  if (!flags.expected_report_data.empty()) {
    auto expected = HexDecode(flags.expected_report_data);
    if (!expected.ok()) return std::move(expected).error().WithContext("--expected-report-data");
    if (expected->size() != 64) {
      return InvalidArgument("cli.bad_report_data",
                             "--expected-report-data must be 64 bytes (128 hex digits), got {}",
                             expected->size());
    }
    request.expected_report_data = std::move(*expected);
  }
  if (!flags.nonce.empty()) {
    auto nonce = HexDecode(flags.nonce);
    if (!nonce.ok()) return std::move(nonce).error().WithContext("--nonce");
    request.nonce = std::move(*nonce);
  }
  LUNAL_ASSIGN_OR_RETURN(request.evidence, ReadInputFile("--evidence", flags.evidence));
  for (const std::string& cert : flags.certs) {
    LUNAL_ASSIGN_OR_RETURN(Bytes bytes, ReadCert(cert));
    request.certs.push_back(std::move(bytes));
  }
  if (!flags.event_log.empty()) {
    LUNAL_ASSIGN_OR_RETURN(request.event_log, ReadInputFile("--event-log", flags.event_log));
  }
  if (!flags.policy.empty()) {
    LUNAL_ASSIGN_OR_RETURN(request.policy, attest::policy::LoadPolicyFile(flags.policy));
  }
  return request;
}

// --sim-root: a Lunal Simulation Root CA certificate (PEM or DER) to trust, pinned by the
// SHA-256 of its DER (docs/formats/sim-tdx.md). Never implied.
Result<std::vector<crypto::TrustAnchor>> SimulatedAnchors(const VerifyFlags& flags) {
  std::vector<crypto::TrustAnchor> anchors;
  if (flags.sim_root.empty()) return anchors;
  LUNAL_ASSIGN_OR_RETURN(Bytes bytes, ReadInputFile("--sim-root", flags.sim_root));
  auto chain = crypto::ParsePemChain(AsStringView(bytes));
  Result<crypto::Certificate> cert = chain.ok() && !chain->empty()
                                         ? Result<crypto::Certificate>(std::move(chain->front()))
                                         : crypto::Certificate::FromDer(bytes);
  if (!cert.ok()) return std::move(cert).error().WithContext("--sim-root " + flags.sim_root + ": ");
  anchors.push_back({.der_sha256 = crypto::Sha256(cert->Der()),
                     .label = "Lunal Simulation Root CA (trusted by --sim-root)"});
  return anchors;
}

std::string Str(const Json& j, std::string_view key) {
  const auto it = j.find(key);
  if (it == j.end() || it->is_null()) return "";
  return it->is_string() ? it->get<std::string>() : it->dump();
}

// The record for people: what was verified, against what, and what the policy says.
void PrintHuman(const engine::VerifyResponse& response) {
  const Json& a = response.record["attestation"];
  const Json& tee = a["tee"];
  const Json& m = a["measurements"];
  const Json& p = a["platform_verification"];
  const bool tdx = tee["type"] == "tdx";
  const bool accepted = response.verdict == engine::Verdict::kVerified;
  const std::string platform = tee.contains("platform") ? " on Azure" : "";
  if (tdx) {
    fmt::print("{} Quote verified: Intel TDX{} (quote v{}, {}, {} container)\n",
               accepted ? "✅" : "⚠️ ", platform, Str(tee, "quote_version"),
               Str(tee, "body_type"), response.container);
    const std::string advisories = fmt::format("{}", fmt::join(p["advisory_ids"], ", "));
    fmt::print("TCB status:        {}{}\n", Str(p, "tcb_status"),
               p["advisory_ids"].empty() ? "" : " (advisories: " + advisories + ")");
    fmt::print("QE identity:       {}\n", Str(p, "qe_identity_status"));
    fmt::print("Certificate chain: {}\n", Str(p, "certificate_chain"));
    fmt::print("Collateral:        TCB evaluation data number {}, valid until {}\n",
               Str(p, "tcb_evaluation_data_number"), Str(p, "collateral_valid_until"));
    fmt::print("Verified as of:    {}\n", Str(p, "verified_as_of"));
    fmt::print("MRTD:              {}\n", Str(m, "mr_td"));
    for (int i = 0; i < 4; ++i) {
      fmt::print("RTMR{}:             {}\n", i, Str(m, fmt::format("rtmr{}", i)));
    }
    fmt::print("REPORTDATA:        {}\n", Str(m, "report_data"));
    const Json& flags = m["td_attributes"]["flags"];
    fmt::print("TD attributes:     {}\n",
               flags.empty() ? std::string("(none)") : fmt::format("{}", fmt::join(flags, ", ")));
  } else {
    fmt::print("{} Report verified: AMD SEV-SNP{} (report v{}, {}, signed by {}, {} container)\n",
               accepted ? "✅" : "⚠️ ", platform, Str(tee, "report_version"), Str(p, "product"),
               Str(p, "signing_key"), response.container);
    fmt::print("Certificate chain: {}\n", Str(p, "certificate_chain"));
    fmt::print("Verified as of:    {}\n", Str(p, "verified_as_of"));
    fmt::print("MEASUREMENT:       {}\n", Str(m, "measurement"));
    fmt::print("HOST_DATA:         {}\n", Str(m, "host_data"));
    fmt::print("REPORT_DATA:       {}\n", Str(m, "report_data"));
    fmt::print("Policy bits:       {}\n", fmt::join(m["policy"]["flags"], ", "));
    const Json& tcb = m["reported_tcb"];
    fmt::print(
        "VMPL {}, guest SVN {}; reported TCB: boot loader {}, TEE {}, SNP {}, microcode {}\n",
        Str(m, "vmpl"), Str(m, "guest_svn"), Str(tcb, "boot_loader"), Str(tcb, "tee"),
        Str(tcb, "snp"), Str(tcb, "microcode"));
  }
  if (a.contains("event_log")) {
    const Json& log = a["event_log"];
    fmt::print("Event log:         replayed; RTMR0-3 match the quote\n");
    if (!Str(log, "build_hash").empty()) {
      fmt::print("Build hash event:  {}\n", Str(log, "build_hash"));
    }
  }
  if (a.contains("azure")) {
    const Json& az = a["azure"];
    const Json& rt = az["runtime_data"];
    fmt::print("Azure vTPM:\n");
    fmt::print(
        "  Runtime data:    {} {} is bound in REPORT_DATA: the vTPM key comes from this VM\n",
        Str(rt, "hash_type"), Str(rt, "digest"));
    fmt::print("  Attestation key: RSA-{} (SPKI SHA-256 {})\n", Str(rt, "attestation_key_bits"),
               Str(rt, "attestation_key_sha256"));
    if (!rt["vm_configuration"].empty()) {
      fmt::print("  VM configuration: {}\n", rt["vm_configuration"].dump());
    }
    if (az["vtpm_quote"].is_null()) {
      fmt::print("  vTPM quote:      none in the evidence (only the HCL report was checked)\n");
    } else {
      fmt::print("  vTPM quote:      signed by the attestation key; {} PCRs match its digest\n",
                 az["vtpm_quote"]["pcrs"].size());
      fmt::print("  vTPM nonce:      {}\n", Str(az["vtpm_quote"], "nonce"));
    }
  }
  if (tee["simulated"] == true) {
    fmt::print(
        "⚠️  SIMULATED: this evidence comes from sim-tdx. No hardware protects the TD.\n");
  }
  const Json& policy = a["policy"];
  if (policy["result"] == "pass") {
    fmt::print("Policy:            pass\n");
    return;
  }
  fmt::print("❌ Policy:         fail ({} violation{})\n", policy["violations"].size(),
             policy["violations"].size() == 1 ? "" : "s");
  for (const Json& v : policy["violations"]) {
    fmt::print("   - {} [{}]\n", Str(v, "message"), Str(v, "reason"));
  }
}

Result<int> Run(const VerifyFlags& flags) {
  LUNAL_ASSIGN_OR_RETURN(engine::VerifyRequest request, BuildRequest(flags));
  engine::LocalVerifierOptions options;
  if (!flags.collateral.empty()) {
    attest::collateral::FolderSourceOptions folders;
    folders.folders.assign(flags.collateral.begin(), flags.collateral.end());
    LUNAL_ASSIGN_OR_RETURN(auto source, attest::collateral::FolderSource::Open(folders));
    options.collateral = std::move(source);
  }
  LUNAL_ASSIGN_OR_RETURN(options.simulated_anchors, SimulatedAnchors(flags));
  auto verifier = engine::MakeLocalVerifier(std::move(options));
  Result<engine::VerifyResponse> response = verifier->Verify(request);
  if (!response.ok()) {
    Status error = response.error();
    if (error.reason() == "attestation.no_collateral") {
      error = InvalidArgument("cli.no_collateral",
                              "no collateral given: pass --collateral DIR with Intel's TCB Info, "
                              "QE identity, CRLs and issuer chains");
    } else if (error.reason() == "attestation.evidence_unrecognized") {
      error = error.WithContext(flags.evidence + ": ");
    }
    return error;
  }
  if (flags.json) {
    PrintJson(response->record);
  } else if (response->verdict == engine::Verdict::kFailed) {
    fmt::print(stderr, "❌ Verification failed: {} [{}]\n", response->error.message(),
               response->error.reason());
  } else {
    PrintHuman(*response);
  }
  return response->verdict == engine::Verdict::kVerified ? kExitOk : kExitFailed;
}

}  // namespace

int RunAttestationVerify(const VerifyFlags& flags) {
  auto exit_code = Run(flags);
  if (!exit_code.ok()) return ReportError(exit_code.error(), flags.json);
  return *exit_code;
}

}  // namespace lunal::cli
