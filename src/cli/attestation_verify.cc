#include "attestation_verify.h"

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "lunal/attest/azure/evidence_input.h"
#include "lunal/attest/azure/verify.h"
#include "lunal/attest/snp/evidence_input.h"
#include "lunal/attest/snp/report.h"
#include "lunal/attest/snp/verify.h"
#include "lunal/attest/tdx/event_log.h"
#include "lunal/attest/tdx/evidence_input.h"
#include "lunal/attest/tdx/verify.h"
#include "lunal/cli/output.h"
#include "lunal/common/encoding.h"
#include "lunal/common/time.h"
#include "lunal/crypto/digest.h"

namespace lunal::cli {
namespace {

namespace fs = std::filesystem;
namespace tdx = attest::tdx;
namespace snp = attest::snp;
namespace azure = attest::azure;

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

// Every regular file of every --collateral folder, in one pool.
Result<std::shared_ptr<const tdx::CollateralPool>> LoadPool(const std::vector<std::string>& dirs) {
  if (dirs.empty()) {
    return InvalidArgument("cli.no_collateral",
                           "no collateral given: pass --collateral DIR with Intel's TCB Info, QE "
                           "identity, CRLs and issuer chains");
  }
  std::vector<tdx::PoolInput> inputs;
  for (const auto& dir : dirs) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) {
      return InvalidArgument("cli.dir_not_found", "--collateral {}: no such directory", dir);
    }
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
      if (entry.is_regular_file()) files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    for (const auto& file : files) {
      std::ifstream in(file, std::ios::binary);
      inputs.push_back(
          {.name = file.string(),
           .bytes = Bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>())});
    }
  }
  return tdx::CollateralPool::Build(std::move(inputs));
}

std::string Short(const Bytes& b) { return HexEncode(b); }

void PrintHuman(const tdx::TdxVerification& v, std::string_view container) {
  bool up_to_date = v.tcb.status == tdx::TcbStatus::kUpToDate;
  fmt::print("{} Quote verified: Intel TDX (quote v{}, {}, {} container)\n",
             up_to_date ? "✅" : "⚠️ ", v.quote_version, tdx::BodyTypeName(v.body_type),
             container);
  fmt::print("TCB status:        {}{}\n", tdx::TcbStatusName(v.tcb.status),
             v.tcb.advisory_ids.empty()
                 ? ""
                 : fmt::format(" (advisories: {})", fmt::join(v.tcb.advisory_ids, ", ")));
  fmt::print("QE identity:       {}\n", tdx::TcbStatusName(v.tcb.qe_status));
  fmt::print("Certificate chain: {}\n", v.certificate_chain);
  fmt::print("Collateral:        TCB evaluation data number {}, valid until {}\n",
             v.tcb_evaluation_data_number, FormatRfc3339(v.collateral_valid_until));
  fmt::print("Verified as of:    {}\n", FormatRfc3339(v.as_of));
  fmt::print("MRTD:              {}\n", Short(v.mr_td));
  for (std::size_t i = 0; i < 4; ++i) fmt::print("RTMR{}:             {}\n", i, Short(v.rtmr[i]));
  fmt::print("REPORTDATA:        {}\n", Short(v.report_data));
  fmt::print("TD attributes:     {}{}\n", fmt::join(v.td_attribute_flags, ", "),
             v.td_attribute_flags.empty() ? "(none)" : "");
  if (v.debug) {
    fmt::print(
        "⚠️  The TD is debuggable: its memory is not private. A default policy rejects it.\n");
  }
  if (!up_to_date) {
    fmt::print(
        "⚠️  The platform's TCB is not up to date; a policy decides whether to accept it.\n");
  }
  if (v.trailing_bytes > 0) {
    fmt::print("⚠️  {} unsigned bytes after the quote were ignored.\n", v.trailing_bytes);
  }
}

void PrintEventLog(const tdx::EventLogCheck& check) {
  std::size_t events = 0;
  for (const auto& rtmr_events : check.replay.events) events += rtmr_events.size();
  fmt::print("Event log:         replayed {} events; RTMR0-3 match the quote\n", events);
  if (check.lunal_build_hash) fmt::print("Build hash event:  {}\n", *check.lunal_build_hash);
}

// The verification record around a verifier's fragment (DESIGN.md "Verification record").
Json Record(Json attestation, ByteSpan report_data, std::string_view container, Timestamp now) {
  Bytes id_seed = ToBytes(fmt::format("{}|{}", HexEncode(report_data), FormatRfc3339(now)));
  attestation["id"] = "att_" + HexEncode(crypto::Sha256(id_seed)).substr(0, 24);
  attestation["timestamp"] = FormatRfc3339(now);
  attestation["evidence_container"] = container;
  return Json{{"status", "verified"}, {"attestation", std::move(attestation)}};
}

// Not verified: exit 1 whatever the step (usage errors exit 2 before we get here).
int ReportNotVerified(const Status& error, bool json) {
  if (json) {
    Json out = ErrorJson(error);
    out["status"] = "failed";
    PrintJson(out);
  } else {
    fmt::print(stderr, "❌ Verification failed: {} [{}]\n", error.message(), error.reason());
  }
  return kExitFailed;
}

void PrintHumanSnp(const snp::SnpVerification& v, std::string_view container) {
  fmt::print("✅ Report verified: AMD SEV-SNP (report v{}, {}, signed by {}, {} container)\n",
             v.version, snp::ProductName(v.product), snp::SigningKeyName(v.signing_key), container);
  fmt::print("Certificate chain: {}\n", v.certificate_chain);
  fmt::print("Verified as of:    {}\n", FormatRfc3339(v.as_of));
  fmt::print("MEASUREMENT:       {}\n", HexEncode(v.measurement));
  fmt::print("HOST_DATA:         {}\n", HexEncode(v.host_data));
  fmt::print("REPORT_DATA:       {}\n", HexEncode(v.report_data));
  fmt::print("Policy:            {}\n", fmt::join(v.policy_flags, ", "));
  fmt::print("VMPL {}, guest SVN {}; reported TCB: boot loader {}, TEE {}, SNP {}, microcode {}\n",
             v.vmpl, v.guest_svn, v.reported_tcb.boot_loader, v.reported_tcb.tee,
             v.reported_tcb.snp, v.reported_tcb.microcode);
  if (v.debug) {
    fmt::print(
        "⚠️  The guest policy allows debugging: its memory is not private. A default policy "
        "rejects it.\n");
  }
}

struct Inputs {
  Timestamp now;
  Timestamp as_of;
  std::optional<Bytes> expected_report_data;
  Bytes evidence;
};

Result<Inputs> ReadInputs(const VerifyFlags& flags) {
  Inputs in;
  in.now = FromSeconds(ToSeconds(SystemClock::Instance().Now()));
  in.as_of = in.now;
  if (!flags.at.empty()) {
    auto at = ParseRfc3339(flags.at);
    if (!at.ok()) return std::move(at).error().WithContext("--at");
    in.as_of = *at;
  }
  if (!flags.expected_report_data.empty()) {
    auto expected = HexDecode(flags.expected_report_data);
    if (!expected.ok()) return std::move(expected).error().WithContext("--expected-report-data");
    if (expected->size() != 64) {
      return InvalidArgument("cli.bad_report_data",
                             "--expected-report-data must be 64 bytes (128 hex digits), got {}",
                             expected->size());
    }
    in.expected_report_data = std::move(*expected);
  }
  LUNAL_ASSIGN_OR_RETURN(in.evidence, ReadInputFile("--evidence", flags.evidence));
  return in;
}

Result<int> RunTdx(const VerifyFlags& flags, const Inputs& in, const tdx::DecodedQuote& decoded) {
  if (!flags.certs.empty()) {
    return InvalidArgument("cli.cert_not_applicable",
                           "--cert gives a VCEK/VLEK for SEV-SNP reports; a TDX quote carries its "
                           "own PCK certificate chain");
  }
  std::optional<tdx::EventLog> event_log;
  if (!flags.event_log.empty()) {
    LUNAL_ASSIGN_OR_RETURN(Bytes log_bytes, ReadInputFile("--event-log", flags.event_log));
    auto parsed = tdx::ParseEventLog(log_bytes);
    if (!parsed.ok()) return std::move(parsed).error().WithContext(flags.event_log);
    event_log = std::move(*parsed);
  }
  LUNAL_ASSIGN_OR_RETURN(auto pool, LoadPool(flags.collateral));
  tdx::Verifier verifier(pool);
  auto result = verifier.Verify(
      decoded.quote, {.as_of = in.as_of, .expected_report_data = in.expected_report_data});
  std::optional<tdx::EventLogCheck> log_check;
  if (result.ok() && event_log) {
    auto check = tdx::CheckEventLog(*event_log, result->rtmr);
    if (!check.ok()) return std::move(check).error().WithContext(flags.event_log);
    log_check = std::move(*check);
    // A log that does not replay to the quote's RTMRs does not describe this TD.
    if (Status match = tdx::RequireRtmrMatch(*log_check); !match.ok()) result = std::move(match);
  }
  if (!result.ok()) return ReportNotVerified(result.error(), flags.json);
  std::string_view container = tdx::ContainerName(decoded.container);
  if (flags.json) {
    Json record = Record(result->ToJson(), result->report_data, container, in.now);
    if (log_check) record["attestation"]["event_log"] = log_check->ToJson();
    PrintJson(record);
  } else {
    PrintHuman(*result, container);
    if (log_check) PrintEventLog(*log_check);
  }
  return kExitOk;
}

Result<int> RunSnp(const VerifyFlags& flags, const Inputs& in, const snp::DecodedReport& decoded) {
  if (!flags.collateral.empty() || !flags.event_log.empty()) {
    return InvalidArgument("cli.flag_not_applicable",
                           "--collateral and --event-log apply to TDX quotes; an SEV-SNP report "
                           "is verified with its VCEK/VLEK (--cert, or carried in the evidence)");
  }
  if (flags.certs.size() > 1) {
    return InvalidArgument("cli.too_many_certs",
                           "give one --cert (the VCEK or VLEK); AMD's roots are built in");
  }
  snp::VerifyOptions options{.as_of = in.as_of,
                             .signing_cert = decoded.vcek,
                             .expected_report_data = in.expected_report_data};
  if (!flags.certs.empty()) {
    LUNAL_ASSIGN_OR_RETURN(options.signing_cert, ReadInputFile("--cert", flags.certs.front()));
  }
  auto result = snp::VerifyReport(decoded.report, options);
  if (!result.ok()) return ReportNotVerified(result.error(), flags.json);
  std::string_view container = snp::ContainerName(decoded.container);
  if (flags.json) {
    PrintJson(Record(result->ToJson(), result->report_data, container, in.now));
  } else {
    PrintHumanSnp(*result, container);
  }
  return kExitOk;
}

void PrintHumanAzure(const azure::AzureVerification& v) {
  fmt::print("Azure confidential VM:\n");
  fmt::print("  Runtime data:    {} {} is REPORT_DATA[0:{}]: the vTPM key comes from this VM\n",
             azure::HclHashTypeName(v.hash_type), HexEncode(v.runtime_data_digest),
             v.runtime_data_digest.size());
  fmt::print("  Attestation key: RSA-{} (SPKI SHA-256 {})\n", v.attestation_key_bits,
             v.attestation_key_sha256);
  if (!v.vm_configuration.empty()) {
    fmt::print("  VM configuration: {}\n", v.vm_configuration.dump());
  }
  if (!v.vtpm) {
    fmt::print("  vTPM quote:      none in the evidence (only the HCL report was checked)\n");
    return;
  }
  // "0-7,14": runs of consecutive indices.
  std::string pcrs;
  const auto& selected = v.vtpm->selected_pcrs;
  for (std::size_t i = 0; i < selected.size();) {
    std::size_t j = i;
    while (j + 1 < selected.size() && selected[j + 1] == selected[j] + 1) ++j;
    pcrs += fmt::format("{}{}", pcrs.empty() ? "" : ",", selected[i]);
    if (j > i) pcrs += fmt::format("-{}", selected[j]);
    i = j + 1;
  }
  fmt::print("  vTPM quote:      signed by the attestation key; PCRs {} match its digest\n", pcrs);
  fmt::print("  vTPM nonce:      {}\n", HexEncode(v.vtpm->nonce));
}

Result<int> RunAzure(const VerifyFlags& flags, const Inputs& in,
                     const azure::AzureEvidence& evidence) {
  if (in.expected_report_data.has_value() || !flags.event_log.empty()) {
    return InvalidArgument("cli.flag_not_applicable",
                           "--expected-report-data and --event-log do not apply to Azure vTPM "
                           "evidence: its REPORT_DATA binds the HCL runtime data, and its nonce "
                           "is the vTPM quote's (--nonce)");
  }
  azure::VerifyOptions options{.as_of = in.as_of};
  if (!flags.nonce.empty()) {
    auto nonce = HexDecode(flags.nonce);
    if (!nonce.ok()) return std::move(nonce).error().WithContext("--nonce");
    options.expected_nonce = std::move(*nonce);
  }
  std::shared_ptr<const tdx::CollateralPool> pool;
  std::optional<tdx::Verifier> tdx_verifier;
  if (evidence.tee == azure::HclReportType::kTdx) {
    if (!flags.certs.empty()) {
      return InvalidArgument("cli.cert_not_applicable",
                             "--cert gives a VCEK/VLEK; Azure TDX evidence carries a TD quote "
                             "with its own PCK chain (give --collateral)");
    }
    LUNAL_ASSIGN_OR_RETURN(pool, LoadPool(flags.collateral));
    tdx_verifier.emplace(pool);
    options.tdx_verifier = &*tdx_verifier;
  } else {
    if (!flags.collateral.empty()) {
      return InvalidArgument("cli.flag_not_applicable",
                             "--collateral applies to TDX; Azure SNP evidence is verified with "
                             "its VCEK (carried in the evidence, or --cert)");
    }
    if (flags.certs.size() > 1) {
      return InvalidArgument("cli.too_many_certs",
                             "give one --cert (the VCEK or VLEK); AMD's roots are built in");
    }
    if (!flags.certs.empty()) {
      LUNAL_ASSIGN_OR_RETURN(options.signing_cert, ReadInputFile("--cert", flags.certs.front()));
    }
  }
  auto result = azure::VerifyAzure(evidence, options);
  if (!result.ok()) return ReportNotVerified(result.error(), flags.json);
  std::string_view container = azure::ContainerName(evidence.container);
  const Bytes& report_data = result->snp ? result->snp->report_data : result->tdx->report_data;
  if (flags.json) {
    PrintJson(Record(result->ToJson(), report_data, container, in.now));
  } else if (result->snp) {
    PrintHumanSnp(*result->snp, container);
    PrintHumanAzure(*result);
  } else {
    PrintHuman(*result->tdx, container);
    PrintHumanAzure(*result);
  }
  return kExitOk;
}

// Which TEE made the evidence: the container and structure that parse decide. Azure vTPM
// evidence is tried first: its JSON also holds a TD quote or SNP report, which the plain
// decoders would take alone, leaving the vTPM quote and the runtime binding unchecked.
Result<int> Dispatch(const VerifyFlags& flags, const Inputs& in) {
  auto azure_evidence = azure::DecodeAzureEvidence(in.evidence);
  if (azure_evidence.ok()) return RunAzure(flags, in, *azure_evidence);
  if (azure_evidence.error().reason() != "azure.container.not_azure") {
    return std::move(azure_evidence).error().WithContext(flags.evidence + ": ");
  }
  if (!flags.nonce.empty()) {
    return InvalidArgument("cli.flag_not_applicable",
                           "--nonce applies to Azure vTPM quotes; for a TDX quote or SNP report "
                           "give --expected-report-data");
  }
  auto quote = tdx::DecodeQuoteContainer(in.evidence);
  Status tdx_error = quote.status();
  if (quote.ok()) {
    auto view = tdx::ParseQuote(quote->quote, {.trailing = tdx::ParseOptions::Trailing::kIgnore});
    if (view.ok()) return RunTdx(flags, in, *quote);
    tdx_error = view.error();
  }
  auto report = snp::DecodeReportContainer(in.evidence);
  Status snp_error = report.status();
  if (report.ok()) {
    auto view = snp::ParseReport(report->report);
    if (view.ok()) return RunSnp(flags, in, *report);
    snp_error = view.error();
  }
  return Malformed("attestation.evidence_unrecognized",
                   "{}: neither a TDX quote ({} [{}]) nor an SEV-SNP report ({} [{}])",
                   flags.evidence, tdx_error.message(), tdx_error.reason(), snp_error.message(),
                   snp_error.reason());
}

}  // namespace

int RunAttestationVerify(const VerifyFlags& flags) {
  auto in = ReadInputs(flags);
  if (!in.ok()) return ReportError(in.error(), flags.json);
  auto exit_code = Dispatch(flags, *in);
  if (!exit_code.ok()) return ReportError(exit_code.error(), flags.json);
  return *exit_code;
}

}  // namespace lunal::cli
