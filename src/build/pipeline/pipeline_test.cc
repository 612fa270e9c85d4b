// RunBuild and VerifyReproducible with the real bwrap, Debian's python3 and node, git and tar
// (the issue's "done when"): the same input in fresh sandboxes, through a folder, an archive and a
// git clone, gives one build hash; a source byte changes it and an ignored file does not; a build
// phase that tries the network fails; manifest.json is the build hash's preimage; the provenance
// verifies with a pinned key and, for an attested build, through sim-tdx evidence; the
// reproducibility check names a non-reproducible file and its first differing byte; refusals.
#include "lunal/build/pipeline.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <string>
#include <thread>

#include "lunal/attest/engine/sim_source.h"
#include "lunal/attest/engine/verifier.h"
#include "lunal/attest/sim/sim_tdx.h"
#include "lunal/attest/sim/simulation_root.h"
#include "lunal/build/provenance.h"
#include "lunal/common/encoding.h"
#include "lunal/crypto/digest.h"
#include "lunal/testing/loopback_file_server.h"
#include "lunal/testing/testing.h"

namespace lunal::build {
namespace {

namespace fs = std::filesystem;
using lunal::testing::ReadFileText;
using lunal::testing::RunProcess;
using lunal::testing::TempDir;
using lunal::testing::WriteFile;

fs::path TestData(std::string_view name) {
  return lunal::testing::SourceDir() / "src/build/pipeline/testdata" / std::string(name);
}

// A copy of a testdata project with explicit modes (not whatever the checkout has).
void CopyProject(std::string_view name, const fs::path& to) {
  fs::create_directories(to);
  fs::copy(TestData(name), to, fs::copy_options::recursive | fs::copy_options::overwrite_existing);
  for (const auto& e : fs::recursive_directory_iterator(to)) {
    if (e.is_regular_file()) fs::permissions(e.path(), fs::perms(0644));
  }
}

std::string Sha256sum(const fs::path& file) {
  auto r = RunProcess({"sha256sum", file.string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return r.out.substr(0, 64);
}

class PipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!lunal::testing::HaveProgram("bwrap")) GTEST_SKIP() << "bwrap is not installed";
    fs::create_directories(dir_ / "work");
  }

  BuildOptions Options(const fs::path& spec, std::string_view out) {
    BuildOptions o;
    o.spec = spec.string();
    o.out_dir = dir_ / out;
    o.work_root = dir_ / "work";
    o.builder_key = dir_ / "builder-key.pem";
    o.clock = &clock_;
    return o;
  }

  BuildResult Build(const BuildOptions& o) {
    Result<BuildResult> r = RunBuild(o);
    EXPECT_TRUE(r.ok()) << r.error();
    return r.ok() ? std::move(*r) : BuildResult{};
  }

  bool WorkRootEmpty() { return fs::is_empty(dir_ / "work"); }

  TempDir dir_;
  FakeClock clock_{FromUnixSeconds(1795000000)};
};

TEST_F(PipelineTest, SameInputInFreshSandboxesGivesTheSameHash) {
  CopyProject("pyapp", dir_ / "app");
  BuildResult a = Build(Options(dir_ / "app", "out1"));
  BuildResult b = Build(Options(dir_ / "app", "out2"));
  ASSERT_FALSE(a.build_hash.empty());
  EXPECT_EQ(a.build_hash, b.build_hash);
  EXPECT_EQ(ReadFileText(a.artifact), ReadFileText(b.artifact));
  EXPECT_EQ(a.run.recipe, "python");
  EXPECT_FALSE(a.config_detected);
  EXPECT_EQ(a.origin.kind, "folder");
  EXPECT_EQ(a.manifest.source.files, 4u);  // .gitignore, app.py, hello/__init__.py, config
  EXPECT_EQ(a.manifest.environment.at("SOURCE_DATE_EPOCH"), "0");
  ASSERT_EQ(a.manifest.artifacts.size(), 1u);
  EXPECT_EQ(a.manifest.artifacts[0].path, "app.tar");
  // The artifact holds the compiled app, and nothing of the host.
  auto list = RunProcess({"tar", "-tvf", a.artifact.string()});
  EXPECT_EQ(list.exit_code, 0) << list.err;
  EXPECT_NE(list.out.find("app/hello/__pycache__/__init__.cpython-"), std::string::npos)
      << list.out;
  EXPECT_NE(list.out.find("0/0"), std::string::npos) << list.out;  // uid/gid 0
  EXPECT_NE(list.out.find("1970-01-01 00:00"), std::string::npos) << list.out;
  EXPECT_TRUE(WorkRootEmpty()) << "work folders must be removed";
}

TEST_F(PipelineTest, ArchiveAndGitCloneOfTheFolderGiveTheFolderHash) {
  CopyProject("pyapp", dir_ / "app");
  const BuildResult folder = Build(Options(dir_ / "app", "out-folder"));

  auto tar = RunProcess(
      {"tar", "-czf", (dir_ / "app.tar.gz").string(), "-C", (dir_ / "app").string(), "."});
  ASSERT_EQ(tar.exit_code, 0) << tar.err;
  const BuildResult archive = Build(Options(dir_ / "app.tar.gz", "out-archive"));
  EXPECT_EQ(archive.origin.kind, "archive");
  EXPECT_EQ(archive.origin.digest, "sha256:" + Sha256sum(dir_ / "app.tar.gz"));
  EXPECT_EQ(archive.build_hash, folder.build_hash);

  const std::string repo = (dir_ / "app").string();
  for (std::vector<std::string> cmd :
       {std::vector<std::string>{"git", "init", "-q", "-b", "main", repo},
        {"git", "-C", repo, "add", "-A"},
        {"git", "-C", repo, "-c", "user.name=Dev", "-c", "user.email=dev@example.com", "commit",
         "-q", "-m", "app"}}) {
    auto r = RunProcess(cmd);
    ASSERT_EQ(r.exit_code, 0) << cmd[2] << ": " << r.err;
  }
  const std::string head = RunProcess({"git", "-C", repo, "rev-parse", "HEAD"}).out.substr(0, 40);
  const BuildResult git = Build(Options("file://" + repo + "#main", "out-git"));
  EXPECT_EQ(git.origin.kind, "git");
  EXPECT_EQ(git.origin.digest, "gitCommit:" + head);
  EXPECT_EQ(git.origin.ref, "main");
  EXPECT_EQ(git.build_hash, folder.build_hash);
  // --ref overrides URL#ref: an unknown ref is git's refusal, at the intake step.
  BuildOptions bad_ref = Options("file://" + repo + "#main", "out-bad-ref");
  bad_ref.ref = "no-such-branch";
  auto refused = RunBuild(bad_ref);
  ASSERT_FALSE(refused.ok());
  EXPECT_TRUE(refused.error().reason().starts_with("intake.git.")) << refused.error();
  EXPECT_TRUE(refused.error().message().starts_with("intake: ")) << refused.error();
  EXPECT_TRUE(WorkRootEmpty());
}

TEST_F(PipelineTest, OneSourceByteChangesTheHashAnIgnoredFileDoesNot) {
  CopyProject("pyapp", dir_ / "app");
  const BuildResult base = Build(Options(dir_ / "app", "out1"));

  // Ignored by the project's .gitignore (*.log, scratch/): not part of the build.
  WriteFile(dir_ / "app/debug.log", "local noise\n");
  fs::create_directories(dir_ / "app/scratch");
  WriteFile(dir_ / "app/scratch/notes.txt", "todo\n");
  const BuildResult ignored = Build(Options(dir_ / "app", "out2"));
  EXPECT_EQ(ignored.build_hash, base.build_hash);
  EXPECT_EQ(ignored.ignored, 2u);

  std::string text = ReadFileText(dir_ / "app/hello/__init__.py");
  text[text.find("hello")] = 'j';  // one byte
  WriteFile(dir_ / "app/hello/__init__.py", text);
  const BuildResult changed = Build(Options(dir_ / "app", "out3"));
  EXPECT_NE(changed.build_hash, base.build_hash);
  EXPECT_NE(changed.manifest.source.tree, base.manifest.source.tree);
  EXPECT_NE(changed.manifest.artifacts, base.manifest.artifacts);
  EXPECT_EQ(changed.manifest.toolchain, base.manifest.toolchain);
}

TEST_F(PipelineTest, OutputFolderInsideTheSourceIsNotPartOfIt) {
  CopyProject("pyapp", dir_ / "app");
  const BuildResult first = Build(Options(dir_ / "app", "app/lunal-build"));
  // The second build sees the first one's output inside the folder, and leaves it out.
  const BuildResult second = Build(Options(dir_ / "app", "app/lunal-build"));
  EXPECT_EQ(second.build_hash, first.build_hash);
  EXPECT_EQ(second.manifest.source.files, 4u);
}

TEST_F(PipelineTest, ABuildPhaseThatTriesTheNetworkFails) {
  if (!lunal::testing::HaveProgram("node")) GTEST_SKIP() << "node is not installed";
  lunal::testing::LoopbackFileServer server;
  CopyProject("nodenet", dir_ / "app");
  WriteFile(dir_ / "app/probe.json",
            fmt::format("{{\"host\": \"127.0.0.1\", \"port\": {}}}\n", server.port()));
  // Control: the same script reaches the server from the host.
  lunal::testing::ProcessOptions in_app;
  in_app.cwd = dir_ / "app";
  auto control = RunProcess({"node", "build.js"}, in_app);
  EXPECT_EQ(control.exit_code, 0) << control.err;
  EXPECT_EQ(server.accepted(), 1);
  fs::remove_all(dir_ / "app/dist");

  auto r = RunBuild(Options(dir_ / "app", "out"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().reason(), "build.phase_failed") << r.error();
  EXPECT_TRUE(r.error().message().starts_with("recipe: ")) << r.error();
  EXPECT_NE(r.error().message().find("network unreachable"), std::string::npos) << r.error();
  EXPECT_EQ(server.accepted(), 1) << "the sandboxed build reached the host";
  EXPECT_FALSE(fs::exists(dir_ / "out/hash.txt"));
  EXPECT_TRUE(WorkRootEmpty());
}

TEST_F(PipelineTest, ManifestFileIsTheBuildHashPreimage) {
  CopyProject("pyapp", dir_ / "app");
  const BuildResult r = Build(Options(dir_ / "app", "out"));
  EXPECT_EQ(ReadFileText(r.hash_file), r.build_hash + "\n");
  EXPECT_EQ("sha256:" + Sha256sum(r.manifest_file), r.build_hash);
  const std::string text = ReadFileText(r.manifest_file);
  EXPECT_EQ(text, r.manifest_json);
  auto parsed = ParseManifest(text);
  ASSERT_TRUE(parsed.ok()) << parsed.error();
  EXPECT_EQ(*parsed, r.manifest);
  EXPECT_EQ(*CanonicalManifest(*parsed), text);
  EXPECT_EQ(*BuildHash(*parsed), r.build_hash);
  EXPECT_EQ(r.manifest.artifacts[0].digest, "sha256:" + Sha256sum(r.artifact));
  EXPECT_EQ(r.manifest.artifacts[0].size, fs::file_size(r.artifact));
  EXPECT_EQ(ReadFileText(r.log_file), r.run.log);
  // No temporary file is left beside the published ones.
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir_ / "out")) {
    names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"app.tar", "build.log", "hash.txt", "manifest.json",
                                             "provenance.dsse.json"}));
}

// A wheel (PEP 427) built here with fixed timestamps, served on the host's loopback and pinned
// by --hash in requirements.txt: the fetch phase downloads it (network), the build phase installs
// it (none). The lockfile's digest in the manifest is the file's SHA-256; the provenance names
// the downloaded wheel among its resolved dependencies.
TEST_F(PipelineTest, FetchedDependenciesAreInTheManifestAndProvenance) {
  auto wheel = RunProcess({"/usr/bin/python3", "-c", R"PY(
import sys, zipfile
files = {"tinylib/__init__.py": "X = 1\n",
         "tinylib-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: tinylib\nVersion: 1.0\n",
         "tinylib-1.0.dist-info/WHEEL": "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
         "tinylib-1.0.dist-info/RECORD": ""}
with zipfile.ZipFile(sys.argv[1], "w") as z:
    for name, text in files.items():
        info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
        info.external_attr = 0o644 << 16
        z.writestr(info, text)
)PY",
                           (dir_ / "tinylib-1.0-py3-none-any.whl").string()});
  ASSERT_EQ(wheel.exit_code, 0) << wheel.err;
  const std::string wheel_name = "tinylib-1.0-py3-none-any.whl";
  const std::string wheel_hex = Sha256sum(dir_ / wheel_name);
  lunal::testing::LoopbackFileServer server(
      std::map<std::string, std::string>{{wheel_name, ReadFileText(dir_ / wheel_name)}});

  CopyProject("pyapp", dir_ / "app");
  WriteFile(dir_ / "app/requirements.txt",
            fmt::format("--no-index\n--find-links http://127.0.0.1:{}/\n"
                        "tinylib==1.0 --hash=sha256:{}\n",
                        server.port(), wheel_hex));
  WriteFile(dir_ / "app/lunal.config.yaml",
            "runtime:\n  language: python\n  requirements: requirements.txt\n"
            "  entrypoint: app.py\n");
  const BuildResult r = Build(Options(dir_ / "app", "out"));
  EXPECT_EQ(server.file_requests(), 1);
  ASSERT_EQ(r.manifest.lockfiles.size(), 1u);
  EXPECT_EQ(r.manifest.lockfiles[0].path, "requirements.txt");
  EXPECT_EQ(r.manifest.lockfiles[0].digest, "sha256:" + Sha256sum(dir_ / "app/requirements.txt"));
  bool pip = false;
  for (const ManifestTool& t : r.manifest.toolchain) pip = pip || t.name == "pip3";
  EXPECT_TRUE(pip);
  auto list = RunProcess({"tar", "-tf", r.artifact.string()});
  EXPECT_NE(list.out.find("deps/tinylib/__init__.py"), std::string::npos) << list.out;

  auto envelope = ParseJson(ReadFileText(r.provenance_file));
  ASSERT_TRUE(envelope.ok());
  auto payload = Base64Decode((*envelope)["payload"].get<std::string>());
  ASSERT_TRUE(payload.ok());
  auto statement = ParseJson(std::string(payload->begin(), payload->end()));
  ASSERT_TRUE(statement.ok());
  const Json& deps = (*statement)["predicate"]["buildDefinition"]["resolvedDependencies"];
  bool wheel_named = false, lockfile_named = false;
  for (const Json& d : deps) {
    wheel_named =
        wheel_named || (d["name"] == "deps/" + wheel_name && d["digest"]["sha256"] == wheel_hex);
    lockfile_named = lockfile_named || (d["name"] == "requirements.txt" &&
                                        "sha256:" + d["digest"]["sha256"].get<std::string>() ==
                                            r.manifest.lockfiles[0].digest);
  }
  EXPECT_TRUE(wheel_named) << deps.dump();
  EXPECT_TRUE(lockfile_named) << deps.dump();
}

TEST_F(PipelineTest, ProvenanceVerifiesWithThePinnedBuilderKey) {
  CopyProject("pyapp", dir_ / "app");
  const BuildResult r = Build(Options(dir_ / "app", "out"));
  auto key = BuilderKey::LoadOrCreate(dir_ / "builder-key.pem");
  ASSERT_TRUE(key.ok()) << key.error();
  EXPECT_EQ(r.builder_key_id, key->KeyId());
  EXPECT_EQ(r.builder_public_key_pem, key->PublicKeyPem());
  EXPECT_FALSE(r.attested);

  const std::string envelope = ReadFileText(r.provenance_file);
  ProvenanceVerifyOptions options{
      .trusted_key_spki = key->SpkiDer(),
      .expected_subjects = {{.name = "app.tar", .sha256_hex = Sha256sum(r.artifact)}},
      .expected_build_hash = r.build_hash};
  auto v = VerifyProvenance(envelope, options);
  ASSERT_TRUE(v.ok()) << v.error();
  EXPECT_FALSE(v->attested);
  EXPECT_EQ(v->build_hash, r.build_hash);
  EXPECT_EQ(v->builder_id, "https://lunal.dev/builder/local@v1");
  const Json& def = v->statement["predicate"]["buildDefinition"];
  EXPECT_EQ(def["externalParameters"]["source"]["uri"], "file://" + (dir_ / "app").string());
  EXPECT_EQ(def["externalParameters"]["config"], "lunal.config.yaml");
  EXPECT_EQ(def["internalParameters"]["recipe"], "python");
  EXPECT_EQ(def["internalParameters"]["environment"]["TZ"], "UTC");
  EXPECT_EQ(def["resolvedDependencies"][0]["annotations"]["treeDigest"], r.manifest.source.tree);
  const Json& run = v->statement["predicate"]["runDetails"];
  EXPECT_EQ(run["metadata"]["startedOn"], FormatRfc3339(clock_.Now()));
  bool log_named = false;
  for (const Json& b : run["byproducts"]) {
    log_named =
        log_named || (b["name"] == "build.log" && b["digest"]["sha256"] == Sha256sum(r.log_file));
  }
  EXPECT_TRUE(log_named) << run.dump();

  // Another key, another build hash, another artifact: each refused.
  auto other = BuilderKey::Generate();
  ASSERT_TRUE(other.ok());
  ProvenanceVerifyOptions wrong_key = options;
  wrong_key.trusted_key_spki = other->SpkiDer();
  EXPECT_FALSE(VerifyProvenance(envelope, wrong_key).ok());
  ProvenanceVerifyOptions wrong_hash = options;
  wrong_hash.expected_build_hash = "sha256:" + std::string(64, '0');
  EXPECT_EQ(VerifyProvenance(envelope, wrong_hash).error().reason(),
            "provenance.build_hash_mismatch");
}

TEST_F(PipelineTest, AttestedBuildVerifiesThroughSimTdxEvidence) {
  const FakeClock clock(ParseRfc3339("2026-11-21T10:00:00Z").value());
  auto root = attest::sim::SimulationRoot::Open(dir_ / "sim", clock);
  ASSERT_TRUE(root.ok()) << root.error();
  auto attester = attest::sim::SimTdxAttester::Create(
      *root, {.mr_td = crypto::Digest(crypto::DigestAlgorithm::kSha384, AsBytes("builder"))});
  ASSERT_TRUE(attester.ok()) << attester.error();

  CopyProject("pyapp", dir_ / "app");
  BuildOptions o = Options(dir_ / "app", "out");
  o.attester = attester->get();
  const BuildResult r = Build(o);
  EXPECT_TRUE(r.attested);
  const std::string envelope = ReadFileText(r.provenance_file);

  auto trusting =
      attest::engine::MakeLocalVerifier({.collateral = attest::engine::MakeSimulationSource(*root),
                                         .simulated_anchors = {(*root)->Anchor()},
                                         .clock = &clock});
  auto v = VerifyProvenance(envelope, {.evidence_verifier = trusting.get(),
                                       .as_of = clock.Now(),
                                       .expected_build_hash = r.build_hash});
  ASSERT_TRUE(v.ok()) << v.error();
  EXPECT_TRUE(v->attested);
  EXPECT_TRUE(v->simulated);
  EXPECT_EQ(v->tee, "tdx");
  EXPECT_EQ(v->key_id, r.builder_key_id);

  // Without the simulation root among the trusted anchors the evidence does not verify.
  auto not_trusting = attest::engine::MakeLocalVerifier(
      {.collateral = attest::engine::MakeSimulationSource(*root), .clock = &clock});
  auto refused =
      VerifyProvenance(envelope, {.evidence_verifier = not_trusting.get(), .as_of = clock.Now()});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().reason(), "provenance.evidence_failed");
}

TEST_F(PipelineTest, VerifyReproducibleOnAReproducibleApp) {
  CopyProject("pyapp", dir_ / "app");
  auto report = VerifyReproducible(Options(dir_ / "app", "out"));
  ASSERT_TRUE(report.ok()) << report.error();
  EXPECT_TRUE(report->reproducible);
  EXPECT_EQ(report->hash_a, report->hash_b);
  EXPECT_TRUE(report->differences.empty());
  EXPECT_EQ(ReadFileText(dir_ / "out/hash.txt"), report->hash_a + "\n");
  EXPECT_TRUE(WorkRootEmpty());
}

TEST_F(PipelineTest, VerifyReproducibleNamesTheDifferingFileAndByte) {
  if (!lunal::testing::HaveProgram("node")) GTEST_SKIP() << "node is not installed";
  CopyProject("noderandom", dir_ / "app");
  auto report = VerifyReproducible(Options(dir_ / "app", "out"));
  ASSERT_TRUE(report.ok()) << report.error();
  EXPECT_FALSE(report->reproducible);
  EXPECT_NE(report->hash_a, report->hash_b);
  const Difference* file = nullptr;
  bool manifest_artifact = false;
  for (const Difference& d : report->differences) {
    if (d.kind == "file") {
      EXPECT_EQ(file, nullptr) << "only one file differs: " << d.ToString();
      file = &d;
    }
    manifest_artifact =
        manifest_artifact || (d.kind == "manifest" && d.where == "artifacts[0].digest");
    EXPECT_NE(d.where, "source.tree") << d.ToString();
  }
  EXPECT_TRUE(manifest_artifact);
  ASSERT_NE(file, nullptr);
  EXPECT_EQ(file->where, "app/dist/random.txt");
  // "random=" then 15 random digits and a newline (23 bytes): the first differing byte is one of
  // the digits (the first one with probability 9/10), shown up to the end of the file.
  EXPECT_GE(file->offset, 7u);
  EXPECT_LT(file->offset, 22u);
  EXPECT_EQ(file->a.size(), 2 * (23 - file->offset));
  EXPECT_EQ(file->b.size(), file->a.size());
  EXPECT_NE(file->a.substr(0, 2), file->b.substr(0, 2)) << "the first byte shown differs";
  EXPECT_EQ(file->a.substr(file->a.size() - 2), "0a");
  EXPECT_EQ(file->ToString().find(fmt::format("app/dist/random.txt: differs from byte {}: {} vs {}",
                                              file->offset, file->a, file->b)),
            0u);
}

TEST_F(PipelineTest, HostileArchiveIsRefusedWithIntakesReason) {
  auto tar = RunProcess({"/usr/bin/python3", "-c", R"PY(
import io, sys, tarfile
with tarfile.open(sys.argv[1], "w") as t:
    data = b"print('x')\n"
    info = tarfile.TarInfo("../escaped.py")
    info.size = len(data)
    t.addfile(info, io.BytesIO(data))
)PY",
                         (dir_ / "evil.tar").string()});
  ASSERT_EQ(tar.exit_code, 0) << tar.err;
  auto r = RunBuild(Options(dir_ / "evil.tar", "out"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().reason(), "intake.archive.path_traversal") << r.error();
  EXPECT_TRUE(r.error().message().starts_with("intake: ")) << r.error();
  EXPECT_FALSE(fs::exists(dir_ / "escaped.py"));
  EXPECT_FALSE(fs::exists(dir_ / "work/escaped.py"));
  EXPECT_FALSE(fs::exists(dir_ / "out/hash.txt"));
  EXPECT_TRUE(WorkRootEmpty());
}

TEST_F(PipelineTest, BadConfigNamesFileLineAndColumn) {
  CopyProject("badconfig", dir_ / "app");
  auto r = RunBuild(Options(dir_ / "app", "out"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().reason(), "config.unknown_key");
  EXPECT_NE(r.error().message().find((dir_ / "app/lunal.config.yaml").string() +
                                     ":4:3: runtime.prot: unknown key \"prot\""),
            std::string::npos)
      << r.error();
  EXPECT_TRUE(r.error().message().starts_with("config: ")) << r.error();
}

TEST_F(PipelineTest, WithoutAConfigTheDetectedOneIsUsedAndSaid) {
  fs::create_directories(dir_ / "site/css");
  WriteFile(dir_ / "site/index.html", "<!doctype html><title>hi</title>\n");
  WriteFile(dir_ / "site/css/site.css", "body { margin: 0 }\n");
  BuildOptions o = Options(dir_ / "site", "out");
  std::vector<std::string> lines;
  o.progress = [&](std::string_view line) { lines.emplace_back(line); };
  const BuildResult r = Build(o);
  EXPECT_TRUE(r.config_detected);
  EXPECT_EQ(r.run.recipe, "static");
  bool said = false;
  for (const std::string& l : lines) said = said || l.starts_with("config: no lunal.config.yaml");
  EXPECT_TRUE(said);
  auto v = ParseJson(ReadFileText(r.provenance_file));
  ASSERT_TRUE(v.ok());
}

TEST_F(PipelineTest, BadOptionsAndKeepWork) {
  CopyProject("pyapp", dir_ / "app");
  BuildOptions ref = Options(dir_ / "app", "out");
  ref.ref = "main";
  EXPECT_EQ(RunBuild(ref).error().reason(), "build.pipeline.bad_options");
  BuildOptions no_out = Options(dir_ / "app", "out");
  no_out.out_dir.clear();
  EXPECT_EQ(RunBuild(no_out).error().reason(), "build.pipeline.bad_options");
  BuildOptions epoch = Options(dir_ / "app", "out");
  epoch.source_date_epoch = -1;
  EXPECT_EQ(RunBuild(epoch).error().reason(), "build.pipeline.bad_options");

  BuildOptions same = Options(dir_ / "app", "app");  // the output folder is the source folder
  EXPECT_EQ(RunBuild(same).error().reason(), "build.pipeline.bad_options");
  EXPECT_TRUE(WorkRootEmpty());

  // A builder key others can read is refused before any work is done.
  ASSERT_TRUE(BuilderKey::LoadOrCreate(dir_ / "open-key.pem").ok());
  fs::permissions(dir_ / "open-key.pem", fs::perms(0644));
  BuildOptions open_key = Options(dir_ / "app", "out-open-key");
  open_key.builder_key = dir_ / "open-key.pem";
  auto refused = RunBuild(open_key);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().reason(), "provenance.key_permissions") << refused.error();
  EXPECT_FALSE(fs::exists(dir_ / "out-open-key"));

  BuildOptions keep = Options(dir_ / "app", "out");
  keep.keep_work = true;
  keep.source_date_epoch = 1700000000;
  const BuildResult r = Build(keep);
  ASSERT_FALSE(r.work_dir.empty());
  EXPECT_TRUE(fs::is_regular_file(r.work_dir / "src/app.py"));
  EXPECT_TRUE(fs::is_directory(r.work_dir / "out/app"));
  EXPECT_EQ(r.manifest.environment.at("SOURCE_DATE_EPOCH"), "1700000000");
  auto list = RunProcess({"tar", "-tvf", r.artifact.string()});
  EXPECT_NE(list.out.find("2023-11-14 22:13"), std::string::npos) << list.out;
}

}  // namespace
}  // namespace lunal::build
