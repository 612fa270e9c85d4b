#include "lunal/sign/ssh_key.h"

#include <gtest/gtest.h>

#include "lunal/common/encoding.h"
#include "lunal/crypto/digest.h"
#include "lunal/crypto/keys.h"
#include "test_util.h"

namespace lunal::sign {
namespace {

using test::Cat;
using test::Str;
using test::StrB;

Bytes Ed25519Blob(const crypto::PublicKey& key) {
  return Cat({Str("ssh-ed25519"), StrB(*key.RawPublic())});
}

Bytes EcdsaBlob(const crypto::PublicKey& key, std::string_view name, std::string_view curve) {
  Bytes q{0x04};
  Bytes xy = *key.EcPoint();
  q.insert(q.end(), xy.begin(), xy.end());
  return Cat({Str(name), Str(curve), StrB(q)});
}

TEST(SshKey, ParsesEd25519AndEcdsaBlobs) {
  auto ed = *crypto::PrivateKey::Generate(crypto::KeyType::kEd25519);
  auto key = SshPublicKey::FromBlob(Ed25519Blob(*ed.PublicKey()));
  ASSERT_TRUE(key.ok()) << key.error();
  EXPECT_EQ(key->type(), SshKeyType::kEd25519);
  EXPECT_TRUE(key->key() == *ed.PublicKey());
  EXPECT_EQ(key->Id().bits, 256);
  EXPECT_EQ(key->Id().type, "ED25519");
  EXPECT_EQ(key->Id().fingerprint.rfind("SHA256:", 0), 0u);
  EXPECT_EQ(key->Id().fingerprint.size(), 7u + 43u);  // 32 bytes, unpadded base64

  auto p384 = *crypto::PrivateKey::Generate(crypto::KeyType::kEcP384);
  auto ec = SshPublicKey::FromBlob(EcdsaBlob(*p384.PublicKey(), "ecdsa-sha2-nistp384", "nistp384"));
  ASSERT_TRUE(ec.ok()) << ec.error();
  EXPECT_EQ(ec->type(), SshKeyType::kEcdsaP384);
  EXPECT_EQ(ec->Id().bits, 384);
  EXPECT_EQ(ec->Id().type, "ECDSA");
}

TEST(SshKey, FingerprintIsSha256OfBlobUnpadded) {
  auto ed = *crypto::PrivateKey::Generate(crypto::KeyType::kEd25519);
  Bytes blob = Ed25519Blob(*ed.PublicKey());
  auto key = *SshPublicKey::FromBlob(blob);
  std::string expected = Base64Encode(crypto::Sha256(blob));
  while (!expected.empty() && expected.back() == '=') expected.pop_back();
  EXPECT_EQ(key.Id().fingerprint, "SHA256:" + expected);
  EXPECT_EQ(key.Id().ToString(), "256 SHA256:" + expected + " (ED25519)");
}

struct BadBlob {
  std::string name;
  Bytes blob;
  std::string reason;
};

TEST(SshKey, RejectsBadBlobs) {
  auto p256 = *crypto::PrivateKey::Generate(crypto::KeyType::kEcP256);
  auto ed = *crypto::PrivateKey::Generate(crypto::KeyType::kEd25519);
  Bytes good_ec = EcdsaBlob(*p256.PublicKey(), "ecdsa-sha2-nistp256", "nistp256");
  Bytes compressed = Cat({Str("ecdsa-sha2-nistp256"), Str("nistp256"), StrB(Bytes(33, 0x02))});
  Bytes with_trailer = Cat({Ed25519Blob(*ed.PublicKey()), Bytes{0}});
  Bytes truncated = Ed25519Blob(*ed.PublicKey());
  truncated.pop_back();
  Bytes bad_curve = EcdsaBlob(*p256.PublicKey(), "ecdsa-sha2-nistp256", "nistp384");
  // RFC 4251 §5: 0x00 0x01 has an unnecessary leading zero.
  Bytes rsa_non_minimal = Cat({Str("ssh-rsa"), StrB(Bytes{0x00, 0x01}), StrB(Bytes(256, 0x41))});
  Bytes rsa_negative = Cat({Str("ssh-rsa"), StrB(Bytes{0x81}), StrB(Bytes(256, 0x41))});
  const BadBlob cases[] = {
      {"dsa", Cat({Str("ssh-dss"), Str("x")}), "sign.key.unsupported_type"},
      {"cert", Cat({Str("ssh-ed25519-cert-v01@openssh.com")}), "sign.key.unsupported_type"},
      {"sk", Cat({Str("sk-ssh-ed25519@openssh.com")}), "sign.key.unsupported_type"},
      {"empty", {}, "sign.key.type.length.truncated"},
      {"truncated", truncated, "sign.key.ed25519.truncated"},
      {"trailing", with_trailer, "sign.key.trailing_bytes"},
      {"compressed", compressed, "sign.key.bad_point"},
      {"curve_mismatch", bad_curve, "sign.key.curve_mismatch"},
      {"ed25519_short", Cat({Str("ssh-ed25519"), StrB(Bytes(31, 1))}), "crypto.key.bad_raw_length"},
      {"rsa_non_minimal", rsa_non_minimal, "sign.key.rsa_e.non_minimal"},
      {"rsa_negative", rsa_negative, "sign.key.rsa_e.negative"},
  };
  for (const BadBlob& c : cases) {
    auto key = SshPublicKey::FromBlob(c.blob);
    ASSERT_FALSE(key.ok()) << c.name;
    EXPECT_EQ(key.error().reason(), c.reason) << c.name << ": " << key.error();
  }
  EXPECT_TRUE(SshPublicKey::FromBlob(good_ec).ok());
}

TEST(SshKey, ParsesOpenSshLine) {
  auto ed = *crypto::PrivateKey::Generate(crypto::KeyType::kEd25519);
  std::string b64 = Base64Encode(Ed25519Blob(*ed.PublicKey()));
  auto key = SshPublicKey::FromOpenSshLine("ssh-ed25519 " + b64 + " dev@example.com\n");
  ASSERT_TRUE(key.ok()) << key.error();
  EXPECT_EQ(key->type(), SshKeyType::kEd25519);

  auto wrong = SshPublicKey::FromOpenSshLine("ssh-rsa " + b64);
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().reason(), "sign.key.type_mismatch");
  auto bad64 = SshPublicKey::FromOpenSshLine("ssh-ed25519 AAAA*AAA");
  ASSERT_FALSE(bad64.ok());
  EXPECT_EQ(bad64.error().reason(), "sign.key.bad_base64");
  auto missing = SshPublicKey::FromOpenSshLine("ssh-ed25519");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().reason(), "sign.key.missing");
}

}  // namespace
}  // namespace lunal::sign
