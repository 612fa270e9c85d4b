#include "lunal/cli/app.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "lunal/cli/output.h"
#include "lunal/common/time.h"
#include "lunal/version.h"

namespace lunal::cli {
namespace {

struct GlobalFlags {
  bool json = false;
};

struct VerifyFlags {
  std::string evidence;
  std::vector<std::string> certs;
  std::vector<std::string> collateral;
  std::string at;
};

Status CheckReadableFile(const std::string& flag, const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return InvalidArgument("cli.file_not_found", "{} {}: no such file", flag, path);
  }
  return Status();
}

Status RunAttestationVerify(const VerifyFlags& flags) {
  LUNAL_RETURN_IF_ERROR(CheckReadableFile("--evidence", flags.evidence));
  for (const auto& cert : flags.certs) LUNAL_RETURN_IF_ERROR(CheckReadableFile("--cert", cert));
  for (const auto& dir : flags.collateral) {
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec)) {
      return InvalidArgument("cli.dir_not_found", "--collateral {}: no such directory", dir);
    }
  }
  if (!flags.at.empty()) {
    auto at = ParseRfc3339(flags.at);
    if (!at.ok()) return std::move(at).error().WithContext("--at");
  }
  // The TDX and SNP verifiers plug in here; until they are built, say so rather than pretend.
  return Unsupported("attestation.verifier_unavailable",
                     "this build of lunal has no evidence verifier yet");
}

// Returns the `attestation verify` subcommand, to test whether it was selected.
CLI::App* AddAttestationCommands(CLI::App& app, VerifyFlags& verify) {
  CLI::App* attestation =
      app.add_subcommand("attestation", "Verify TEE evidence and deployment attestations");
  attestation->require_subcommand(1);

  CLI::App* cmd = attestation->add_subcommand(
      "verify",
      "Verify Intel TDX or AMD SEV-SNP evidence offline: vendor signatures, certificate chain to\n"
      "the pinned vendor root, CRLs, collateral and TCB status, as of a given time.");
  cmd->add_option("--evidence", verify.evidence,
                  "Evidence file: a raw, zero-padded, hex or base64 quote/report, or a JSON\n"
                  "envelope ({\"platform\", \"quote\"|\"report\", ...})")
      ->required();
  cmd->add_option("--cert", verify.certs,
                  "VCEK/VLEK certificate or chain (PEM or DER) when the evidence does not\n"
                  "carry it; repeatable");
  cmd->add_option("--collateral", verify.collateral,
                  "Folder of vendor collateral (TCB Info, QE identity, CRLs, issuer chains);\n"
                  "repeatable");
  cmd->add_option("--at", verify.at,
                  "Verify as of this RFC 3339 time instead of now, e.g. 2026-03-31T22:25:04Z");
  cmd->footer(
      "Examples:\n"
      "  lunal attestation verify --evidence quote.dat --collateral ./collateral\n"
      "  lunal attestation verify --evidence report.bin --cert vcek.der --json\n"
      "Exit status: 0 verified, 1 verification failed, 2 bad input, 3 collateral unavailable.");
  return cmd;
}

}  // namespace

int RunLunal(int argc, char** argv) {
  CLI::App app(
      "lunal: deploy code into Trusted Execution Environments and prove what runs there.",
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

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return ReportError(InvalidArgument("cli.usage", "{}", e.what()), global.json);
  }

  Status status;
  if (verify_cmd->parsed()) status = RunAttestationVerify(verify);
  if (!status.ok()) return ReportError(status, global.json);
  return kExitOk;
}

}  // namespace lunal::cli
