#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "lunal/attest/report_data.h"
#include "lunal/build/provenance.h"
#include "lunal/testing/testing.h"

namespace lunal::build {
namespace {

namespace fs = std::filesystem;

TEST(BuilderKey, LoadOrCreateWritesA0600KeyAndLoadsItAgain) {
  testing::TempDir dir;
  const fs::path file = dir / "state" / "builder-key.pem";
  auto created = BuilderKey::LoadOrCreate(file);
  ASSERT_TRUE(created.ok()) << created.error();
  struct stat st {};
  ASSERT_EQ(::stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat(file.parent_path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0077, 0u);

  auto loaded = BuilderKey::LoadOrCreate(file);
  ASSERT_TRUE(loaded.ok()) << loaded.error();
  EXPECT_EQ(loaded->KeyId(), created->KeyId());
  EXPECT_EQ(loaded->SpkiDer(), created->SpkiDer());
  EXPECT_EQ(created->KeyId(), attest::KeyDigest(created->SpkiDer()));
  EXPECT_EQ(created->KeyId().substr(0, 7), "sha256:");
  EXPECT_EQ(created->private_key().Type(), crypto::KeyType::kEcP256);
  EXPECT_EQ(created->PublicKeyPem().rfind("-----BEGIN PUBLIC KEY-----", 0), 0u);

  auto fresh = BuilderKey::Generate();
  ASSERT_TRUE(fresh.ok());
  EXPECT_NE(fresh->KeyId(), created->KeyId());
}

TEST(BuilderKey, RefusesReadableGarbageAndOtherCurves) {
  testing::TempDir dir;
  const fs::path open_key = dir / "open.pem";
  ASSERT_TRUE(BuilderKey::LoadOrCreate(open_key).ok());
  fs::permissions(open_key, fs::perms::group_read, fs::perm_options::add);
  auto readable = BuilderKey::LoadOrCreate(open_key);
  ASSERT_FALSE(readable.ok());
  EXPECT_EQ(readable.error().reason(), "provenance.key_permissions");

  const fs::path garbage = dir / "garbage.pem";
  testing::WriteFile(garbage, "not a key\n");
  fs::permissions(garbage, fs::perms::owner_read | fs::perms::owner_write);
  auto bad = BuilderKey::LoadOrCreate(garbage);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().reason(), "provenance.bad_key");

  auto p384 = crypto::PrivateKey::Generate(crypto::KeyType::kEcP384);
  ASSERT_TRUE(p384.ok());
  const fs::path other = dir / "p384.pem";
  testing::WriteFile(other, p384->ToPkcs8Pem().value());
  fs::permissions(other, fs::perms::owner_read | fs::perms::owner_write);
  auto wrong = BuilderKey::LoadOrCreate(other);
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().reason(), "provenance.key_type");
}

}  // namespace
}  // namespace lunal::build
