// Test support shared by every component's tests (never linked into shipped binaries).
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "lunal/common/bytes.h"

namespace lunal::testing {

// ../shared (evidence, seeds), the repository root and the build tree: fixed when the tests are
// configured, overridable by $LUNAL_SHARED_DIR, $LUNAL_SOURCE_DIR and $LUNAL_BINARY_DIR.
std::filesystem::path SharedDir();
std::filesystem::path SourceDir();
std::filesystem::path BinaryDir();

// Reads a whole file; fails the calling test (ADD_FAILURE) and returns empty when unreadable.
Bytes ReadFileBytes(const std::filesystem::path& path);
std::string ReadFileText(const std::filesystem::path& path);
void WriteFile(const std::filesystem::path& path, std::string_view contents);

// A fresh directory under the test temp dir, removed with its contents on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(std::string_view name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

struct ProcessResult {
  int exit_code = -1;  // -1 when killed by a signal or on timeout
  bool timed_out = false;
  std::string out;
  std::string err;
};

struct ProcessOptions {
  std::string stdin_data;
  std::chrono::milliseconds timeout{30000};
  // Extra "NAME=value" entries added to (or overriding) the inherited environment.
  std::vector<std::string> env;
  std::optional<std::filesystem::path> cwd;
};

// Runs argv[0] (searched in PATH when it has no '/') with the given arguments, capturing stdout
// and stderr; kills it after the timeout.
ProcessResult RunProcess(const std::vector<std::string>& argv, const ProcessOptions& options = {});

// True if `program` is found in PATH.
bool HaveProgram(const std::string& program);

}  // namespace lunal::testing
