#include "lunal/crypto/csr.h"

#include <gtest/gtest.h>

#include "lunal/common/encoding.h"
#include "lunal/testing/testing.h"

namespace lunal::crypto {
namespace {

TEST(Csr, BuildThenParseReturnsTheKey) {
  auto key = PrivateKey::Generate(KeyType::kEcP256);
  ASSERT_TRUE(key.ok());
  auto pem = BuildCsrPem(*key, "instance-1");
  ASSERT_TRUE(pem.ok()) << pem.error();
  auto csr = ParseCsrPem(*pem);
  ASSERT_TRUE(csr.ok()) << csr.error();
  EXPECT_EQ(csr->subject, "CN=instance-1");
  EXPECT_TRUE(csr->public_key == *key->PublicKey());
  EXPECT_EQ(csr->spki_der, *key->PublicKey()->ToSpkiDer());
}

TEST(Csr, ReadsOpensslGeneratedRequest) {
  if (!lunal::testing::HaveProgram("openssl")) GTEST_SKIP() << "no openssl";
  lunal::testing::TempDir dir;
  auto r = lunal::testing::RunProcess(
      {"openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
       "-keyout", (dir / "k.pem").string(), "-subj", "/CN=peer", "-out", (dir / "r.pem").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto csr = ParseCsrPem(lunal::testing::ReadFileText(dir / "r.pem"));
  ASSERT_TRUE(csr.ok()) << csr.error();
  auto key = PrivateKey::FromPem(lunal::testing::ReadFileText(dir / "k.pem"));
  ASSERT_TRUE(key.ok());
  EXPECT_TRUE(csr->public_key == *key->PublicKey());
}

TEST(Csr, RefusesBrokenSignatureAndGarbage) {
  auto key = PrivateKey::Generate(KeyType::kEcP256);
  std::string pem = *BuildCsrPem(*key, "x");
  // Re-encode with one byte of the signature flipped (the last DER byte is in the signature).
  const auto begin = pem.find('\n') + 1;
  const auto end = pem.find("-----END");
  auto der = Base64Decode(pem.substr(begin, end - begin), {.ignore_whitespace = true});
  ASSERT_TRUE(der.ok());
  der->back() ^= 1;
  std::string bad = "-----BEGIN CERTIFICATE REQUEST-----\n" + Base64Encode(*der) +
                    "\n-----END CERTIFICATE REQUEST-----\n";
  auto parsed = ParseCsrPem(bad);
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.error().reason(), "crypto.csr.signature_invalid");

  EXPECT_EQ(ParseCsrPem("hello").error().reason(), "crypto.csr.parse_failed");
  EXPECT_EQ(ParseCsrPem(pem + pem).error().reason(), "crypto.csr.parse_failed");
  EXPECT_EQ(ParseCsrPem(pem + "junk").error().reason(), "crypto.csr.parse_failed");
}

}  // namespace
}  // namespace lunal::crypto
