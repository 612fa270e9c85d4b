#include "lunal/cli/app.h"

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <optional>
#include <string>
#include <vector>

#include "attestation_verify.h"
#include "build_commands.h"
#include "config_commands.h"
#include "lunal/cli/output.h"
#include "lunal/cli/parse.h"
#include "lunal/common/time.h"
#include "lunal/version.h"
#include "platform_commands.h"
#include "provenance_commands.h"
#include "sign_commands.h"

namespace lunal::cli {
namespace {

struct GlobalFlags {
  bool json = false;
};

// Returns the `attestation verify` subcommand, to test whether it was selected.
CLI::App* AddAttestationCommands(CLI::App& app, VerifyFlags& verify) {
  CLI::App* attestation =
      app.add_subcommand("attestation", "Verify TEE evidence and deployment attestations");
  attestation->require_subcommand(1);

  CLI::App* cmd = attestation->add_subcommand(
      "verify",
      "Verify Intel TDX or AMD SEV-SNP evidence offline: vendor signatures, certificate chain to\n"
      "the pinned vendor root, CRLs, collateral and TCB status, as of a given time. Azure\n"
      "confidential-VM evidence (HCL report + vTPM quote, SNP or TDX) is verified whole: the\n"
      "hardware report, its binding of the vTPM key, and the vTPM quote's signature and PCRs.");
  cmd->add_option("--evidence", verify.evidence,
                  "Evidence file: a raw, zero-padded, hex or base64 quote/report, or a JSON\n"
                  "envelope ({\"platform\", \"quote\"|\"report\", ...}), or Azure vTPM evidence\n"
                  "(an HCL report, or JSON with hcl_report, tpm_quote and vcek/td_quote)")
      ->required();
  cmd->add_option("--cert", verify.certs,
                  "VCEK/VLEK certificate or chain (PEM or DER) when the evidence does not\n"
                  "carry it; repeatable");
  cmd->add_option("--collateral", verify.collateral,
                  "Folder of vendor collateral: Intel's TCB Info, QE identity, CRLs and issuer\n"
                  "chains; AMD certificates and CRLs named as KDS names them (vcek.der, ...);\n"
                  "repeatable");
  cmd->add_option("--at", verify.at,
                  "Verify as of this RFC 3339 time instead of now, e.g. 2026-03-31T22:25:04Z");
  cmd->add_option("--event-log", verify.event_log,
                  "TDX CCEL / TCG2 crypto-agile event log to replay against RTMR0-3 (raw, hex\n"
                  "or base64); a log that does not match the quote fails verification");
  cmd->add_option("--expected-report-data", verify.expected_report_data,
                  "REPORT_DATA the TD must have put in the quote (128 hex digits)");
  cmd->add_option("--nonce", verify.nonce,
                  "Azure vTPM evidence: the nonce (hex) the vTPM quote must carry in extraData");
  cmd->add_option("--policy", verify.policy,
                  "Policy file (YAML or JSON, docs/formats/policy.md) the claims must satisfy;\n"
                  "default: TDX or SNP, no debug, no simulation, TCB UpToDate or\n"
                  "SWHardeningNeeded");
  cmd->add_option("--sim-root", verify.sim_root,
                  "Trust this Lunal Simulation Root CA (sim-tdx, development only); results\n"
                  "then say simulated and the default policy allows them");
  cmd->footer(
      "Examples:\n"
      "  lunal attestation verify --evidence quote.dat --collateral ./collateral\n"
      "  lunal attestation verify --evidence report.bin --cert vcek.der --at 2026-07-26T05:58:26Z\n"
      "  lunal attestation verify --evidence quote.dat --collateral ./collateral \\\n"
      "      --event-log ccel.bin --at 2025-10-01T00:34:24Z --json\n"
      "  lunal attestation verify --evidence az-tdx-evidence.json --collateral ./collateral \\\n"
      "      --nonce 6368616c6c656e6765 --at 2025-10-01T00:34:24Z\n"
      "Without --at, verification uses the current time; expired collateral is named with its\n"
      "expiry date. Verification checks what the evidence proves; the policy then decides\n"
      "whether to accept it (the default refuses debug TDs/VMs and OutOfDate TCBs unless a\n"
      "--policy names their advisories). --cert may also name a folder of KDS-named\n"
      "certificates (vcek.der, vcek.pem, vlek.der, vlek.pem).\n"
      "Exit status: 0 verified and accepted, 1 not verified or rejected by the policy, 2 bad "
      "usage.");
  return cmd;
}

}  // namespace

int RunLunal(int argc, char** argv) {
  CLI::App app("lunal: deploy code into Trusted Execution Environments and prove what runs there.",
               "lunal");
  app.fallthrough();  // global flags such as --json may follow the subcommand
  app.require_subcommand(1);
  app.set_version_flag("--version", fmt::format("lunal {}", kVersion));
  GlobalFlags global;
  app.add_flag("--json", global.json, "Print machine-readable JSON instead of text");
  app.footer(
      "Environment: LUNAL_API, LUNAL_TOKEN (or ~/.config/lunal/config.yaml).\n"
      "Run 'lunal <command> --help' for a command's options.");

  VerifyFlags verify;
  CLI::App* verify_cmd = AddAttestationCommands(app, verify);
  PlatformCommands platform_commands = AddPlatformCommands(app, verify);
  SignCommands sign_commands = AddSignCommands(app);
  ProvenanceCommands provenance_commands = AddProvenanceCommands(app);
  auto config_commands = AddConfigCommands(app);
  BuildCommands build_commands = AddBuildCommands(app);

  if (auto exit_now = ParseCommandLine(app, argc, argv, global.json)) return *exit_now;
  if (auto exit_code = RunSignCommands(sign_commands, global.json)) return *exit_code;
  if (auto exit_code = RunProvenanceCommands(provenance_commands, global.json)) return *exit_code;
  if (auto exit_code = RunConfigCommands(*config_commands, global.json)) return *exit_code;
  if (auto exit_code = RunBuildCommands(build_commands, global.json)) return *exit_code;
  if (auto exit_code = RunPlatformCommands(platform_commands, global.json)) return *exit_code;

  if (verify_cmd->parsed()) {
    verify.json = global.json;
    return RunAttestationVerify(verify);
  }
  return kExitOk;
}

}  // namespace lunal::cli
