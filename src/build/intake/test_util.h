// Helpers shared by the intake tests: trees on disk, python/git/tar runs, folder snapshots.
#pragma once

#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "lunal/build/intake.h"
#include "lunal/testing/testing.h"

namespace lunal::build::test {

// Writes `contents` to root/rel, creating parent folders.
void Put(const std::filesystem::path& root, const std::string& rel, std::string_view contents,
         bool executable = false);
void Link(const std::filesystem::path& root, const std::string& rel, const std::string& target);

// Every path under `dir` (not following links), with its type and size, for before/after
// comparisons ("nothing appeared outside the work folder").
std::set<std::string> Snapshot(const std::filesystem::path& dir);

// Runs /usr/bin/python3 -c `code` with `args` (sys.argv[1:]); fails the test on a non-zero exit.
void Python(const std::string& code, const std::vector<std::string>& args);

// Runs git with a clean configuration (HOME in a temp folder, no system or global config).
testing::ProcessResult Git(const std::vector<std::string>& args, const std::filesystem::path& cwd);
std::string GitOk(const std::vector<std::string>& args, const std::filesystem::path& cwd);

// "path type exec size target" lines, for readable tree comparisons.
std::vector<std::string> Describe(const SourceTree& tree);

}  // namespace lunal::build::test
