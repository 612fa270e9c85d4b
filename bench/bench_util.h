// Helpers for bench/ programs: time a loop for a bounded duration, run a peer tool measured in
// the same run, and print the RESULT line `make bench` collects:
//   RESULT <name> ours=<value> peer=<value> unit=<unit> ratio=<ours/peer>
#pragma once

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <regex>
#include <string>

#include "lunal/common/bytes.h"

namespace lunal::bench {

// ../shared (real evidence and collateral): $LUNAL_SHARED_DIR, else the folder beside the
// checkout that CMake compiled in.
inline std::filesystem::path SharedDir() {
  const char* env = std::getenv("LUNAL_SHARED_DIR");
  return env && *env ? std::filesystem::path(env) : std::filesystem::path(LUNAL_DEFAULT_SHARED_DIR);
}

// A whole file (empty when unreadable: the benchmark's own checks then fail loudly).
inline Bytes ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// Calls `op` repeatedly for about `seconds` (checking the clock every `batch` calls) and returns
// operations per second. Bounded: it always stops.
template <typename Op>
double OpsPerSecond(Op&& op, double seconds = 2.0, int batch = 64) {
  using Clock = std::chrono::steady_clock;
  for (int i = 0; i < batch; ++i) op();  // warm-up
  auto start = Clock::now();
  auto deadline = start + std::chrono::duration<double>(seconds);
  long long ops = 0;
  Clock::time_point now;
  do {
    for (int i = 0; i < batch; ++i) op();
    ops += batch;
    now = Clock::now();
  } while (now < deadline);
  return static_cast<double>(ops) / std::chrono::duration<double>(now - start).count();
}

// Runs a shell command and returns its standard output ("" if it could not start).
inline std::string Capture(const std::string& command) {
  std::string out;
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(command.c_str(), "r"), pclose);
  if (!pipe) return out;
  std::array<char, 4096> buf;
  while (std::fgets(buf.data(), static_cast<int>(buf.size()), pipe.get())) out += buf.data();
  return out;
}

// OpenSSL's own ECDSA verifications per second, as `openssl speed -seconds N <alg>` prints them:
// " 256 bits ecdsa (nistp256)   0.0000s   0.0001s  44286.0  14041.6" (sign/s, then verify/s).
// `alg` is "ecdsap256" or "ecdsap384", `curve_name` "nistp256" or "nistp384"; 0 if not found.
inline double OpenSslEcdsaVerifyRate(const std::string& alg, const std::string& curve_name,
                                     int seconds) {
  const std::string out =
      Capture("openssl speed -seconds " + std::to_string(seconds) + " " + alg + " 2>/dev/null");
  const std::regex line("ecdsa \\(" + curve_name +
                        "\\)\\s+\\S+s\\s+\\S+s\\s+([0-9.]+)\\s+([0-9.]+)");
  std::smatch m;
  return std::regex_search(out, m, line) ? std::stod(m[2]) : 0;
}

inline void PrintResult(const std::string& name, double ours, double peer,
                        const std::string& unit) {
  std::printf("RESULT %s ours=%.1f peer=%.1f unit=%s ratio=%.3f\n", name.c_str(), ours, peer,
              unit.c_str(), peer > 0 ? ours / peer : 0.0);
  std::fflush(stdout);
}

}  // namespace lunal::bench
