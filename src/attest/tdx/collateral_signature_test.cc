// Intel's signatures over the real collateral: they cover the exact served bytes of the inner
// object, verify under the Intel SGX TCB Signing key, and break on any one-byte change.
#include <gtest/gtest.h>

#include "lunal/attest/tdx/collateral.h"
#include "lunal/common/json.h"
#include "lunal/crypto/signature.h"
#include "lunal/crypto/x509.h"
#include "lunal/testing/testing.h"
#include "test_collateral.h"

namespace lunal::attest::tdx {
namespace {

using testing::CollateralFiles;
using testing::ReadCollateral;

crypto::Certificate Anchor(std::string_view name) {
  auto cert = crypto::Certificate::FromPem(
      lunal::testing::ReadFileText(lunal::testing::SharedDir() / "evidence" / "anchors" / name));
  EXPECT_TRUE(cert.ok());
  return *cert;
}

bool IsTestPki(const std::string& name) {
  return name.find("intel-qvl") != std::string::npos ||
         name.find("sampleQuotes") != std::string::npos;
}

Status Verify(const crypto::Certificate& signer, std::string_view bytes,
              std::span<const std::uint8_t, 64> signature) {
  auto key = signer.PublicKey();
  if (!key.ok()) return key.error();
  return crypto::VerifyEcdsaRaw(*key, crypto::DigestAlgorithm::kSha256, AsBytes(bytes), signature);
}

// Both Intel SGX TCB Signing certificates (2018-2025 and 2025-2032) hold the same key.
TEST(CollateralSignature, EveryIntelDocumentVerifiesAndNoEditedOneDoes) {
  const crypto::Certificate signers[] = {Anchor("intel_sgx_tcb_signing_2018-2025.pem"),
                                         Anchor("intel_sgx_tcb_signing_2025-2032.pem")};
  int verified = 0;
  auto check = [&](const std::string& name, const std::string& signed_bytes,
                   const std::array<std::uint8_t, 64>& signature) {
    SCOPED_TRACE(name);
    for (const crypto::Certificate& signer : signers) {
      Status s = Verify(signer, signed_bytes, signature);
      if (IsTestPki(name)) {
        EXPECT_EQ(s.reason(), "crypto.signature.invalid");
        continue;
      }
      ASSERT_TRUE(s.ok()) << s;
      for (std::size_t at : {std::size_t{0}, signed_bytes.size() / 2, signed_bytes.size() - 1}) {
        std::string edited = signed_bytes;
        edited[at] = static_cast<char>(edited[at] ^ 0x01);
        EXPECT_EQ(Verify(signer, edited, signature).reason(), "crypto.signature.invalid") << at;
      }
      std::string longer = signed_bytes + " ";
      EXPECT_FALSE(Verify(signer, longer, signature).ok());
      auto bad_signature = signature;
      bad_signature[63] ^= 1;
      EXPECT_FALSE(Verify(signer, signed_bytes, bad_signature).ok());
    }
    if (!IsTestPki(name)) ++verified;
  };
  for (const std::string& name : CollateralFiles("tcb_info__")) {
    auto doc = ParseTcbInfo(ReadCollateral(name));
    if (doc.ok()) check(name, doc->signed_bytes, doc->signature);
  }
  for (const std::string& name : CollateralFiles("qe_identity__")) {
    auto doc = ParseQeIdentity(ReadCollateral(name));
    ASSERT_TRUE(doc.ok()) << name;
    check(name, doc->signed_bytes, doc->signature);
  }
  EXPECT_EQ(verified, 13 + 7);
}

// Re-serializing the parsed document does not reproduce the signed bytes: the reason the raw
// scanner exists.
TEST(CollateralSignature, ReserializedJsonDoesNotVerify) {
  auto doc = ParseTcbInfo(ReadCollateral(testing::kTcbInfo90c06f));
  ASSERT_TRUE(doc.ok());
  auto json = ParseJson(doc->signed_bytes);
  ASSERT_TRUE(json.ok());
  std::string reserialized = json->dump();  // nlohmann sorts keys
  ASSERT_NE(reserialized, doc->signed_bytes);
  EXPECT_FALSE(
      Verify(Anchor("intel_sgx_tcb_signing_2025-2032.pem"), reserialized, doc->signature).ok());
}

}  // namespace
}  // namespace lunal::attest::tdx
