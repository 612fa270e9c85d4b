// Helpers shared by the crypto tests: locating ../shared/evidence, reading files, hex, times.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <string_view>

#include "lunal/common/bytes.h"
#include "lunal/common/encoding.h"
#include "lunal/common/time.h"

namespace lunal::crypto::testing {

// $LUNAL_SHARED_DIR, else $LUNAL_SOURCE_DIR/../shared, else ../../../shared from src/crypto.
inline std::filesystem::path SharedDir() {
  if (const char* dir = std::getenv("LUNAL_SHARED_DIR"); dir != nullptr && *dir != '\0') {
    return dir;
  }
  if (const char* src = std::getenv("LUNAL_SOURCE_DIR"); src != nullptr && *src != '\0') {
    return std::filesystem::path(src) / ".." / "shared";
  }
  return std::filesystem::path("..") / ".." / ".." / "shared";
}

inline std::filesystem::path Evidence(std::string_view relative) {
  return SharedDir() / "evidence" / relative;
}

inline std::string ReadText(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot open " << path;
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

inline Bytes ReadBytes(const std::filesystem::path& path) { return ToBytes(ReadText(path)); }

inline Bytes Hex(std::string_view hex) {
  auto decoded = HexDecode(hex);
  EXPECT_TRUE(decoded.has_value()) << hex;
  return decoded.has_value() ? *decoded : Bytes{};
}

template <typename Container>
std::string ToHex(const Container& bytes) {
  return HexEncode(ByteSpan(bytes.data(), bytes.size()));
}

// "2026-03-01T00:00:00Z" as sys_seconds.
inline std::chrono::sys_seconds At(std::string_view rfc3339) {
  auto parsed = ParseRfc3339(rfc3339);
  EXPECT_TRUE(parsed.has_value()) << rfc3339;
  return parsed.has_value() ? ToSeconds(*parsed) : std::chrono::sys_seconds{};
}

}  // namespace lunal::crypto::testing

// EXPECT that a Status / Result failed with this code and reason.
#define EXPECT_ERROR(expr, code_value, reason_value)                   \
  do {                                                                 \
    ::lunal::Status status_ = ::lunal::internal::AsStatus(expr);       \
    EXPECT_EQ(status_.code(), (code_value)) << status_.ToString();     \
    EXPECT_EQ(status_.reason(), (reason_value)) << status_.ToString(); \
  } while (false)

#define ASSERT_OK(expr)                                          \
  do {                                                           \
    ::lunal::Status status_ = ::lunal::internal::AsStatus(expr); \
    ASSERT_TRUE(status_.ok()) << status_.ToString();             \
  } while (false)

#define EXPECT_OK(expr)                                          \
  do {                                                           \
    ::lunal::Status status_ = ::lunal::internal::AsStatus(expr); \
    EXPECT_TRUE(status_.ok()) << status_.ToString();             \
  } while (false)
