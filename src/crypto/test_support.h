// Helpers shared by the crypto tests: locating ../shared/evidence, reading files, hex, times.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <string_view>

#include "lunal/common/bytes.h"
#include "lunal/common/encoding.h"
#include "lunal/common/time.h"
#include "lunal/crypto/keys.h"
#include "lunal/crypto/x509.h"
#include "lunal/crypto/x509_builder.h"
#include "lunal/testing/testing.h"

namespace lunal::crypto::testing {

// Files under ../shared/evidence (located by lunal::testing::SharedDir()).
inline std::filesystem::path Evidence(std::string_view relative) {
  return ::lunal::testing::SharedDir() / "evidence" / relative;
}
inline std::string ReadText(const std::filesystem::path& path) {
  return ::lunal::testing::ReadFileText(path);
}
inline Bytes ReadBytes(const std::filesystem::path& path) {
  return ::lunal::testing::ReadFileBytes(path);
}

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

// A self-signed CA with exactly the Intel SGX Root CA's subject and validity but `key`: the
// impostor every pinning test must reject.
inline Result<Certificate> SameNamedIntelRoot(const PrivateKey& key) {
  CertificateBuilder builder;
  builder.AddSubjectAttribute("CN", "Intel SGX Root CA")
      .AddSubjectAttribute("O", "Intel Corporation")
      .AddSubjectAttribute("L", "Santa Clara")
      .AddSubjectAttribute("ST", "CA")
      .AddSubjectAttribute("C", "US")
      .Validity(At("2018-05-21T10:45:10Z"), At("2049-12-31T23:59:59Z"))
      .Ca(true, 1);
  return builder.SelfSign(key);
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
