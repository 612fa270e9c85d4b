#include "build_commands.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "lunal/attest/sim/sim_tdx.h"
#include "lunal/attest/sim/simulation_root.h"
#include "lunal/build/pipeline.h"
#include "lunal/cli/output.h"
#include "lunal/common/time.h"
#include "lunal/crypto/digest.h"

namespace lunal::cli {

namespace fs = std::filesystem;

struct BuildCommandsState {
  CLI::App* build = nullptr;
  std::string spec = ".";
  std::string out = "lunal-build";
  std::string ref;
  bool verify_reproducible = false;
  std::string builder_key;
  std::string attest_sim;
  std::int64_t source_date_epoch = 0;
  bool keep_work = false;
};

namespace {

// The builder's MRTD under sim-tdx: SHA-384 of the running lunal binary, what a TD's image
// measurement would cover (docs/formats/sim-tdx.md: MRTD is the image digest).
Result<Bytes> SelfImageDigest() {
  int fd = ::open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return Unavailable("cli.read_failed", "/proc/self/exe: {}", std::strerror(errno));
  }
  crypto::Hasher hasher(crypto::DigestAlgorithm::kSha384);
  std::vector<std::uint8_t> buffer(std::size_t{1} << 20);
  for (;;) {
    ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    hasher.Update(ByteSpan(buffer.data(), static_cast<std::size_t>(n)));
  }
  ::close(fd);
  return hasher.Finish();
}

// A build failure is exit 1 whatever its code (the thing built is bad); options the pipeline
// refuses are usage errors (2), and our bugs stay 70.
int ExitFor(const Status& s) {
  if (s.code() == Code::kInternal) return kExitInternal;
  if (s.reason() == "build.pipeline.bad_options" || s.reason().starts_with("cli.")) {
    return kExitUsage;
  }
  return kExitFailed;
}

int Fail(const Status& s, bool json) {
  if (json) {
    Json out = ErrorJson(s);
    out["built"] = false;
    PrintJson(out);
  } else {
    ReportError(s, false);
  }
  return ExitFor(s);
}

std::string ToolSummary(const build::BuildResult& r) {
  std::string tools;
  for (const build::ManifestTool& t : r.manifest.toolchain) {
    tools += fmt::format("{}{} ({})", tools.empty() ? "" : ", ", t.name, t.version);
  }
  return tools.empty() ? "no toolchain" : tools;
}

void PrintHuman(const build::BuildResult& r, const build::ReproducibilityReport* repro) {
  const build::ManifestArtifact& a = r.manifest.artifacts.front();
  fmt::print("Source:      {} {}{}{} ({} files, {} bytes; {} ignored)\n", r.origin.kind,
             r.origin.uri, r.origin.ref.empty() ? "" : " @ " + r.origin.ref,
             r.origin.digest.empty() ? "" : " " + r.origin.digest, r.manifest.source.files,
             r.manifest.source.bytes, r.ignored);
  fmt::print("Source tree: {}\n", r.manifest.source.tree);
  fmt::print("Config:      {}\n", r.config_detected
                                      ? "detected (no lunal.config.yaml; see `lunal init`)"
                                      : "lunal.config.yaml");
  fmt::print("Recipe:      {} with {}\n", r.run.recipe, ToolSummary(r));
  fmt::print("Artifact:    {} ({} bytes, {})\n", r.artifact.string(), a.size, a.digest);
  fmt::print("Build hash:  {}\n", r.build_hash);
  fmt::print("Provenance:  signed by builder key {}{}\n", r.builder_key_id,
             r.attested ? " (attested build: sim-tdx, SIMULATED)" : "");
  fmt::print("Files:       {}\n", r.manifest_file.string());
  for (const fs::path& f : {r.hash_file, r.provenance_file, r.log_file}) {
    fmt::print("             {}\n", f.string());
  }
  if (repro != nullptr) {
    if (repro->reproducible) {
      fmt::print("Reproducible: yes (two builds in fresh sandboxes gave {})\n", repro->hash_a);
    } else {
      fmt::print("Reproducible: NO ({} vs {})\n", repro->hash_a, repro->hash_b);
      for (const build::Difference& d : repro->differences) {
        fmt::print("  {}\n", d.ToString());
      }
      return;
    }
  }
  fmt::print("\nNext: sign the build hash with your SSH key:\n");
  fmt::print("  lunal sign --hash-file {} --key ~/.ssh/id_ed25519\n", r.hash_file.string());
}

int Run(const BuildCommandsState& s, bool json) {
  build::BuildOptions options;
  options.spec = s.spec;
  options.ref = s.ref;
  options.out_dir = s.out;
  options.source_date_epoch = s.source_date_epoch;
  options.builder_key = s.builder_key;
  options.keep_work = s.keep_work;
  if (!json) {
    options.progress = [](std::string_view line) {
      std::fprintf(stderr, "%.*s\n", static_cast<int>(line.size()), line.data());
    };
  }
  std::unique_ptr<attest::sim::SimTdxAttester> attester;
  if (!s.attest_sim.empty()) {
    auto root = attest::sim::SimulationRoot::Open(s.attest_sim, SystemClock::Instance());
    if (!root.ok()) return Fail(std::move(root).error().WithContext("--attest-sim"), json);
    Result<Bytes> mr_td = SelfImageDigest();
    if (!mr_td.ok()) return Fail(mr_td.error(), json);
    auto created = attest::sim::SimTdxAttester::Create(*root, {.mr_td = std::move(*mr_td)});
    if (!created.ok()) return Fail(std::move(created).error().WithContext("--attest-sim"), json);
    attester = std::move(*created);
    options.attester = attester.get();
  }
  if (!s.verify_reproducible) {
    Result<build::BuildResult> r = build::RunBuild(options);
    if (!r.ok()) return Fail(r.error(), json);
    if (json) {
      Json out = build::BuildResultToJson(*r);
      out["built"] = true;
      PrintJson(out);
    } else {
      PrintHuman(*r, nullptr);
    }
    return kExitOk;
  }
  Result<build::ReproducibilityReport> report = build::VerifyReproducible(options);
  if (!report.ok()) return Fail(report.error(), json);
  if (json) {
    Json out = build::BuildResultToJson(report->first);
    out["built"] = true;
    out["reproducibility"] = build::ReproducibilityToJson(*report);
    PrintJson(out);
  } else {
    PrintHuman(report->first, &*report);
  }
  return report->reproducible ? kExitOk : kExitFailed;
}

}  // namespace

BuildCommands::BuildCommands(std::unique_ptr<BuildCommandsState> state)
    : state_(std::move(state)) {}
BuildCommands::BuildCommands(BuildCommands&&) noexcept = default;
BuildCommands& BuildCommands::operator=(BuildCommands&&) noexcept = default;
BuildCommands::~BuildCommands() = default;

BuildCommands AddBuildCommands(CLI::App& app) {
  auto state = std::make_unique<BuildCommandsState>();
  BuildCommandsState& s = *state;
  s.build = app.add_subcommand(
      "build",
      "Build a project hermetically and reproducibly: intake (a folder, a .tar/.tar.gz/.zip,\n"
      "or a git URL), lunal.config.yaml (or the detected runtime), a fetch phase with network\n"
      "and a build phase without it in bubblewrap, a deterministic app.tar, the build manifest\n"
      "and build hash, and SLSA provenance signed by the builder key.");
  s.build->add_option("SOURCE", s.spec,
                      "A project folder, an archive, or a git URL (https://, ssh://, file://,\n"
                      "user@host:path) with an optional #ref; default .");
  s.build->add_option("--out", s.out,
                      "Output folder (created; earlier build files in it are replaced); default\n"
                      "./lunal-build (left out of the source when it is inside it)");
  s.build->add_option("--ref", s.ref, "Git branch, tag or commit to build (overrides URL#ref)");
  s.build->add_flag("--verify-reproducible", s.verify_reproducible,
                    "Build twice in fresh sandboxes and compare; a difference names each\n"
                    "differing file with its first differing byte (exit 1)");
  s.build->add_option("--builder-key", s.builder_key,
                      "The builder's signing key (PKCS#8 PEM, ECDSA P-256), created when missing;\n"
                      "default $XDG_DATA_HOME/lunal/builder-key.pem "
                      "(~/.local/share/lunal/builder-key.pem)");
  s.build->add_option("--attest-sim", s.attest_sim,
                      "Attested build under the simulated TDX (development only): the sim-tdx\n"
                      "state folder (created when missing), e.g. .lunal/sim-tdx; the provenance\n"
                      "then carries evidence binding the builder key");
  s.build
      ->add_option("--source-date-epoch", s.source_date_epoch,
                   "SOURCE_DATE_EPOCH of the build and the archive's mtime; default 0, so\n"
                   "a folder, its archive and its git clone build to the same hash")
      ->check(CLI::NonNegativeNumber);
  s.build->add_flag("--keep-work", s.keep_work,
                    "Keep the work folder (source copy, dependencies, output) and print it");
  s.build->footer(
      "Examples:\n"
      "  lunal build\n"
      "  lunal build ./my-app --out ./out\n"
      "  lunal build app.tar.gz --out ./out --json\n"
      "  lunal build https://github.com/example/app.git --ref v1.2.0 --out ./out\n"
      "  lunal build ./my-app --verify-reproducible\n"
      "  lunal build ./my-app --attest-sim .lunal/sim-tdx\n"
      "Writes OUT/app.tar, OUT/manifest.json (sha256sum of it = the build hash), OUT/hash.txt,\n"
      "OUT/provenance.dsse.json and OUT/build.log (docs/formats/build-output.md). Then:\n"
      "  lunal sign --hash-file OUT/hash.txt --key ~/.ssh/id_ed25519\n"
      "  lunal provenance verify --provenance OUT/provenance.dsse.json --key builder.pub.pem\n"
      "(--json prints the builder's public key as builder.public_key_pem).\n"
      "Exit status: 0 built (and reproducible), 1 the build failed or is not reproducible,\n"
      "2 bad usage, 70 a bug in Lunal.");
  return BuildCommands(std::move(state));
}

std::optional<int> RunBuildCommands(BuildCommands& commands, bool json) {
  BuildCommandsState& s = commands.state();
  if (!s.build->parsed()) return std::nullopt;
  return Run(s, json);
}

}  // namespace lunal::cli
