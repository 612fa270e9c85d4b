// DetectProject over small sample trees (testdata/detect/, one per runtime) and over trees built
// in temporary folders for the safety rules: links not followed, large files skipped.
#include "lunal/build/detect.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "lunal/testing/testing.h"

namespace lunal::build {
namespace {

std::filesystem::path Sample(std::string_view name) {
  return lunal::testing::SourceDir() / "src/build/testdata/detect" / name;
}

Detection Detect(const std::filesystem::path& root) {
  Result<Detection> d = DetectProject(root);
  EXPECT_TRUE(d.ok()) << d.error();
  return d.ok() ? *d : Detection{};
}

// The reason that set `sets`, or nullptr.
const Reason* ReasonFor(const Detection& d, std::string_view sets) {
  for (const Reason& r : d.reasons) {
    if (r.sets == sets) return &r;
  }
  return nullptr;
}

void ExpectReason(const Detection& d, std::string_view sets, std::string_view file,
                  std::string_view detail) {
  const Reason* r = ReasonFor(d, sets);
  ASSERT_NE(r, nullptr) << "no reason for " << sets << " in:\n" << SuggestedConfigYaml(d);
  EXPECT_EQ(r->file, file) << sets;
  EXPECT_EQ(r->detail, detail) << sets;
}

// Every suggestion must itself be a valid lunal.config.yaml that reads back unchanged.
void ExpectValidSuggestion(const Detection& d) {
  ConfigParse p = ParseConfig(SuggestedConfigYaml(d), "suggested.yaml");
  ASSERT_TRUE(p.ok()) << p.errors[0].ToString() << "\n" << SuggestedConfigYaml(d);
  EXPECT_EQ(p.config, d.config);
}

TEST(DetectTest, FlaskFromRequirementsTxt) {
  Detection d = Detect(Sample("flask-app"));
  ASSERT_TRUE(d.config.runtime.has_value());
  EXPECT_EQ(*d.config.runtime, (Runtime{.language = "python",
                                        .version = "3.10",
                                        .framework = "flask",
                                        .requirements = "requirements.txt",
                                        .entrypoint = "app.py"}));
  EXPECT_EQ(
      d.reasons,
      (std::vector<Reason>{
          {"requirements.txt", "present", "runtime.language: python"},
          {"requirements.txt", "lists flask (line 2)", "runtime.framework: flask"},
          {".python-version", "\"3.10.13\"", "runtime.version: \"3.10\""},
          {"app.py", "present at the top level", "runtime.entrypoint: app.py"},
          {"requirements.txt", "the dependency list", "runtime.requirements: requirements.txt"},
      }));
  ExpectValidSuggestion(d);
}

TEST(DetectTest, FastApiFromPyprojectDependencies) {
  Detection d = Detect(Sample("fastapi-pyproject"));
  ASSERT_TRUE(d.config.runtime.has_value());
  EXPECT_EQ(d.config.runtime->framework, "fastapi");
  EXPECT_EQ(d.config.runtime->version, "3.11");
  EXPECT_EQ(d.config.runtime->entrypoint, "main.py");
  EXPECT_EQ(d.config.runtime->requirements, "pyproject.toml");
  ExpectReason(d, "runtime.framework: fastapi", "pyproject.toml", "lists fastapi (line 10)");
  ExpectReason(d, "runtime.version: \"3.11\"", "pyproject.toml", "requires-python");
  ExpectValidSuggestion(d);
}

TEST(DetectTest, DjangoPrefersManagePy) {
  Detection d = Detect(Sample("django-app"));
  ASSERT_TRUE(d.config.runtime.has_value());
  EXPECT_EQ(d.config.runtime->framework, "django");
  EXPECT_EQ(d.config.runtime->entrypoint, "manage.py");
  EXPECT_EQ(d.config.runtime->version, "3.12");
  ExpectReason(d, "runtime.framework: django", "requirements.txt", "lists django (line 1)");
  ExpectReason(d, "runtime.version: \"3.12\"", "runtime.txt", "\"python-3.12.1\"");
  ExpectValidSuggestion(d);
}

TEST(DetectTest, PoetryProjectWithAWsgiModule) {
  Detection d = Detect(Sample("poetry-wsgi"));
  ASSERT_TRUE(d.config.runtime.has_value());
  EXPECT_EQ(d.config.runtime->framework, "flask");
  EXPECT_EQ(d.config.runtime->version, "3.10");
  EXPECT_EQ(d.config.runtime->entrypoint, "shop/wsgi.py");
  ExpectReason(d, "runtime.entrypoint: shop/wsgi.py", "shop/wsgi.py",
               "the WSGI application module");
  ExpectReason(d, "runtime.framework: flask", "pyproject.toml", "lists flask (line 6)");
  ExpectValidSuggestion(d);
}

TEST(DetectTest, ExpressWithAStartScript) {
  Detection d = Detect(Sample("node-express"));
  ASSERT_TRUE(d.config.runtime.has_value());
  EXPECT_EQ(*d.config.runtime, (Runtime{.language = "node",
                                        .version = "20",
                                        .framework = "express",
                                        .requirements = "package-lock.json",
                                        .command = {"npm", "start"}}));
  ExpectReason(d, "runtime.language: node", "package.json", "present");
  ExpectReason(d, "runtime.framework: express", "package.json", "dependencies lists \"express\"");
  ExpectReason(d, "runtime.command: [npm, start]", "package.json",
               "scripts.start is \"node server.js\"");
  ExpectReason(d, "runtime.version: \"20\"", "package.json", "engines.node is \">=20.0.0\"");
  ExpectValidSuggestion(d);
}

TEST(DetectTest, NextWithAPortInTheStartScript) {
  Detection d = Detect(Sample("node-next"));
  ASSERT_TRUE(d.config.runtime.has_value());
  EXPECT_EQ(d.config.runtime->framework, "next");
  EXPECT_EQ(d.config.runtime->port, 4000u);
  EXPECT_EQ(d.config.runtime->version, "18");  // the default: no engines.node
  EXPECT_EQ(d.config.runtime->requirements, "package.json");
  ExpectReason(d, "runtime.port: 4000", "package.json", "scripts.start passes -p 4000");
  ExpectValidSuggestion(d);
}

TEST(DetectTest, NodeWithoutStartScriptUsesMain) {
  Detection d = Detect(Sample("node-main"));
  ASSERT_TRUE(d.config.runtime.has_value());
  EXPECT_TRUE(d.config.runtime->command.empty());
  EXPECT_EQ(d.config.runtime->entrypoint, "src/index.js");
  ExpectReason(d, "runtime.entrypoint: src/index.js", "package.json", "main is \"src/index.js\"");
  ExpectValidSuggestion(d);
}

TEST(DetectTest, GoModuleWithACmdFolder) {
  Detection d = Detect(Sample("go-service"));
  ASSERT_TRUE(d.config.runtime.has_value());
  EXPECT_EQ(
      *d.config.runtime,
      (Runtime{
          .language = "go", .version = "1.22", .requirements = "go.mod", .entrypoint = "cmd/api"}));
  ExpectReason(d, "runtime.version: \"1.22\"", "go.mod", "\"go 1.22.1\" (line 3)");
  ExpectReason(d, "runtime.entrypoint: cmd/api", "cmd/api/main.go",
               "the first main package under cmd/");
  ExpectValidSuggestion(d);
}

TEST(DetectTest, StaticSite) {
  Detection d = Detect(Sample("static-site"));
  ASSERT_TRUE(d.config.runtime.has_value());
  EXPECT_EQ(d.config.runtime->language, "static");
  EXPECT_EQ(d.config.runtime->entrypoint, "index.html");
  EXPECT_EQ(d.reasons.size(), 1u);
  EXPECT_EQ(d.reasons[0].file, "index.html");
  ExpectValidSuggestion(d);
}

TEST(DetectTest, DockerfileMeansContainerModeEvenWithPythonFiles) {
  Detection d = Detect(Sample("docker-python"));
  EXPECT_FALSE(d.config.runtime.has_value());
  ASSERT_TRUE(d.config.container.has_value());
  EXPECT_EQ(*d.config.container,
            (Container{.dockerfile = "Dockerfile", .context = ".", .port = 5000}));
  ExpectReason(d, "container.port: 5000", "Dockerfile", "EXPOSE 5000 (line 4)");
  ASSERT_EQ(d.notes.size(), 1u);
  EXPECT_NE(d.notes[0].find("requirements.txt is present too"), std::string::npos);
  const std::string yaml = SuggestedConfigYaml(d);
  EXPECT_NE(yaml.find("#   Dockerfile: EXPOSE 5000 (line 4) -> container.port: 5000\n"),
            std::string::npos)
      << yaml;
  ExpectValidSuggestion(d);
}

TEST(DetectTest, LinksAreNotFollowedAndLargeFilesAreSkipped) {
  lunal::testing::TempDir dir;
  // A requirements.txt that points outside the folder must not be read.
  lunal::testing::TempDir outside;
  lunal::testing::WriteFile(outside / "reqs.txt", "django\n");
  ASSERT_EQ(::symlink((outside / "reqs.txt").c_str(), (dir / "requirements.txt").c_str()), 0);
  lunal::testing::WriteFile(dir / "main.py", "print(1)\n");
  Detection d = Detect(dir.path());
  ASSERT_TRUE(d.config.runtime.has_value());
  EXPECT_EQ(d.config.runtime->language, "python");  // from main.py alone
  EXPECT_EQ(d.config.runtime->framework, "");       // django was outside: never read
  EXPECT_EQ(d.config.runtime->requirements, "");
  ExpectValidSuggestion(d);

  lunal::testing::TempDir big;
  lunal::testing::WriteFile(big / "requirements.txt",
                            "flask\n" + std::string(300 << 10, '#') + "\n");
  lunal::testing::WriteFile(big / "app.py", "\n");
  Result<Detection> bounded = DetectProject(big.path(), {.max_file_bytes = 256 << 10});
  ASSERT_TRUE(bounded.ok());
  EXPECT_EQ(bounded->config.runtime->framework, "");
  ASSERT_FALSE(bounded->notes.empty());
  EXPECT_NE(bounded->notes[0].find("requirements.txt: not read"), std::string::npos)
      << bounded->notes[0];
}

TEST(DetectTest, HostileValuesNeverMakeAnInvalidSuggestion) {
  lunal::testing::TempDir dir;
  lunal::testing::WriteFile(dir / "package.json",
                            R"({"main": "/etc/passwd", "engines": {"node": "99999999999"},
                                "dependencies": {"express": 1}})");
  Detection d = Detect(dir.path());
  ASSERT_TRUE(d.config.runtime.has_value());
  EXPECT_EQ(d.config.runtime->entrypoint, "");  // an absolute main is not a project file
  EXPECT_EQ(d.config.runtime->version, "18");   // the default, not a 11-digit version
  EXPECT_EQ(d.config.runtime->framework, "");   // "express": 1 is not a dependency version
  ExpectValidSuggestion(d);

  lunal::testing::TempDir go;
  lunal::testing::WriteFile(go / "go.mod", "module x\n");
  std::filesystem::create_directories(go / "cmd" / "bad\xff name");
  lunal::testing::WriteFile(go / "cmd" / "bad\xff name" / "main.go", "package main\n");
  Detection g = Detect(go.path());
  ASSERT_TRUE(g.config.runtime.has_value());
  EXPECT_EQ(g.config.runtime->entrypoint, "");  // a folder name a config cannot carry
  ExpectValidSuggestion(g);
}

TEST(DetectTest, NothingRecognisedAndNotAFolder) {
  lunal::testing::TempDir dir;
  lunal::testing::WriteFile(dir / "README.md", "# hi\n");
  Result<Detection> d = DetectProject(dir.path());
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().code(), Code::kNotFound);
  EXPECT_EQ(d.error().reason(), "detect.nothing_found");
  Result<Detection> file = DetectProject(dir / "README.md");
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(file.error().reason(), "detect.not_a_directory");
}

// The repository's examples/ folder holds no application yet (examples/README.md); when apps
// arrive, each must get a valid suggestion.
TEST(DetectTest, RepositoryExamplesGetValidSuggestions) {
  const auto examples = lunal::testing::SourceDir() / "examples";
  std::size_t apps = 0;
  for (const auto& entry : std::filesystem::directory_iterator(examples)) {
    if (!entry.is_directory()) continue;
    ++apps;
    Detection d = Detect(entry.path());
    EXPECT_FALSE(d.reasons.empty()) << entry.path();
    ExpectValidSuggestion(d);
  }
  RecordProperty("example_apps", static_cast<int>(apps));
}

}  // namespace
}  // namespace lunal::build
