#include "attestation_verify.h"

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <iterator>

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

Json Record(const tdx::TdxVerification& v, std::string_view container, Timestamp now) {
  Json attestation = v.ToJson();
  Bytes id_seed = ToBytes(fmt::format("{}|{}", HexEncode(v.report_data), FormatRfc3339(now)));
  attestation["id"] = "att_" + HexEncode(crypto::Sha256(id_seed)).substr(0, 24);
  attestation["timestamp"] = FormatRfc3339(now);
  attestation["evidence_container"] = container;
  return Json{{"status", "verified"}, {"attestation", attestation}};
}

Status Run(const VerifyFlags& flags, int* exit_code) {
  Timestamp now = FromSeconds(ToSeconds(SystemClock::Instance().Now()));
  Timestamp as_of = now;
  if (!flags.at.empty()) {
    auto at = ParseRfc3339(flags.at);
    if (!at.ok()) return std::move(at).error().WithContext("--at");
    as_of = *at;
  }
  tdx::VerifyOptions options{.as_of = as_of};
  if (!flags.expected_report_data.empty()) {
    auto expected = HexDecode(flags.expected_report_data);
    if (!expected.ok()) return std::move(expected).error().WithContext("--expected-report-data");
    if (expected->size() != 64) {
      return InvalidArgument("cli.bad_report_data",
                             "--expected-report-data must be 64 bytes (128 hex digits), got {}",
                             expected->size());
    }
    options.expected_report_data = std::move(*expected);
  }
  LUNAL_ASSIGN_OR_RETURN(Bytes file, ReadInputFile("--evidence", flags.evidence));
  std::optional<tdx::EventLog> event_log;
  if (!flags.event_log.empty()) {
    LUNAL_ASSIGN_OR_RETURN(Bytes log_bytes, ReadInputFile("--event-log", flags.event_log));
    auto parsed = tdx::ParseEventLog(log_bytes);
    if (!parsed.ok()) return std::move(parsed).error().WithContext(flags.event_log);
    event_log = std::move(*parsed);
  }
  auto decoded = tdx::DecodeQuoteContainer(file);
  if (!decoded.ok()) {
    // SEV-SNP reports and other platforms plug in here.
    return std::move(decoded).error().WithContext(flags.evidence);
  }
  if (!flags.certs.empty()) {
    return InvalidArgument("cli.cert_not_applicable",
                           "--cert gives a VCEK/VLEK for SEV-SNP reports; a TDX quote carries its "
                           "own PCK certificate chain");
  }
  LUNAL_ASSIGN_OR_RETURN(auto pool, LoadPool(flags.collateral));
  tdx::Verifier verifier(pool);
  auto result = verifier.Verify(decoded->quote, options);
  std::optional<tdx::EventLogCheck> log_check;
  if (result.ok() && event_log) {
    auto check = tdx::CheckEventLog(*event_log, result->rtmr);
    if (!check.ok()) return std::move(check).error().WithContext(flags.event_log);
    log_check = std::move(*check);
    // A log that does not replay to the quote's RTMRs does not describe this TD.
    if (Status match = tdx::RequireRtmrMatch(*log_check); !match.ok()) result = std::move(match);
  }
  if (!result.ok()) {
    // Whatever the step, the evidence did not verify: exit 1 (usage errors, above, exit 2).
    *exit_code = kExitFailed;
    if (flags.json) {
      Json out = ErrorJson(result.error());
      out["status"] = "failed";
      PrintJson(out);
    } else {
      fmt::print(stderr, "❌ Verification failed: {} [{}]\n", result.error().message(),
                 result.error().reason());
    }
    return Status();
  }
  std::string_view container = tdx::ContainerName(decoded->container);
  if (flags.json) {
    Json record = Record(*result, container, now);
    if (log_check) record["attestation"]["event_log"] = log_check->ToJson();
    PrintJson(record);
  } else {
    PrintHuman(*result, container);
    if (log_check) PrintEventLog(*log_check);
  }
  *exit_code = kExitOk;
  return Status();
}

}  // namespace

int RunAttestationVerify(const VerifyFlags& flags) {
  int exit_code = kExitOk;
  Status s = Run(flags, &exit_code);
  if (!s.ok()) return ReportError(s, flags.json);
  return exit_code;
}

}  // namespace lunal::cli
