#include "lunal/sign/allowed_signers.h"

#include <gtest/gtest.h>

#include "lunal/common/encoding.h"
#include "lunal/crypto/keys.h"
#include "test_util.h"

namespace lunal::sign {
namespace {

using test::Cat;
using test::Str;
using test::StrB;

std::string Ed25519Line(const crypto::PrivateKey& key) {
  return "ssh-ed25519 " +
         Base64Encode(Cat({Str("ssh-ed25519"), StrB(*key.PublicKey()->RawPublic())}));
}

SshPublicKey SshKey(const crypto::PrivateKey& key) {
  return *SshPublicKey::FromBlob(Cat({Str("ssh-ed25519"), StrB(*key.PublicKey()->RawPublic())}));
}

const Timestamp kNow = FromUnixSeconds(1767225600);  // 2026-01-01T00:00:00Z

TEST(PatternList, Ssh_configSemantics) {
  EXPECT_TRUE(MatchPatternList("dev@example.com", "dev@example.com"));
  EXPECT_TRUE(MatchPatternList("dev@example.com", "*@example.com"));
  EXPECT_TRUE(MatchPatternList("dev@example.com", "other@x,d?v@example.*"));
  EXPECT_FALSE(MatchPatternList("dev@example.com", "*@example.org"));
  EXPECT_FALSE(MatchPatternList("dev@example.com", "*@example.com,!dev@*"));
  EXPECT_FALSE(MatchPatternList("dev@example.com", "!other@example.com"));  // no positive match
  EXPECT_FALSE(MatchPatternList("Dev@example.com", "dev@example.com"));     // case-sensitive
  EXPECT_TRUE(MatchPatternList("lunal", "git,lunal"));
  EXPECT_TRUE(MatchPatternList("", "*"));
}

TEST(AllowedSigners, ParsesEntriesOptionsAndComments) {
  auto k1 = *crypto::PrivateKey::Generate(crypto::KeyType::kEd25519);
  auto k2 = *crypto::PrivateKey::Generate(crypto::KeyType::kEd25519);
  std::string text =
      "# team signers\n\n   \n"
      "dev@example.com,ops@example.com " +
      Ed25519Line(k1) +
      " laptop key\n"
      "  \"*@example.org\" namespaces=\"lunal,git\",valid-after=\"20250101Z\","
      "VALID-BEFORE=\"20270101000000Z\" " +
      Ed25519Line(k2) + "\r\n";
  auto signers = AllowedSigners::Parse(text, "signers");
  ASSERT_TRUE(signers.ok()) << signers.error();
  ASSERT_EQ(signers->entries().size(), 2u);
  const AllowedSigner& a = signers->entries()[0];
  EXPECT_EQ(a.line, 4);
  EXPECT_EQ(a.principals, "dev@example.com,ops@example.com");
  EXPECT_FALSE(a.namespaces.has_value());
  EXPECT_TRUE(a.key == SshKey(k1));
  const AllowedSigner& b = signers->entries()[1];
  EXPECT_EQ(b.line, 5);
  EXPECT_EQ(b.principals, "*@example.org");
  EXPECT_EQ(b.namespaces, "lunal,git");
  EXPECT_EQ(b.valid_after, FromUnixSeconds(1735689600));   // 2025-01-01T00:00:00Z
  EXPECT_EQ(b.valid_before, FromUnixSeconds(1798761600));  // 2027-01-01T00:00:00Z
}

struct ParseCase {
  std::string name;
  std::string line;  // {KEY} is replaced by a valid "ssh-ed25519 AAAA..." key
  std::string reason;
  std::string where;  // "file:line:col"
};

TEST(AllowedSigners, ParseErrorsNameLineAndColumn) {
  auto k = *crypto::PrivateKey::Generate(crypto::KeyType::kEd25519);
  const ParseCase cases[] = {
      {"cert_authority", "a@b cert-authority {KEY}", "sign.allowed_signers.cert_authority",
       "f:2:5"},
      {"cert_authority_in_list", "a@b namespaces=\"lunal\",Cert-Authority {KEY}",
       "sign.allowed_signers.cert_authority", "f:2:24"},
      {"unknown_option", "a@b   no-touch-required=\"x\" {KEY}",
       "sign.allowed_signers.options.unknown", "f:2:7"},
      {"unquoted_value", "a@b namespaces=lunal {KEY}", "sign.allowed_signers.options.missing_quote",
       "f:2:5"},
      {"unterminated_option", "a@b namespaces=\"lunal {KEY}",
       "sign.allowed_signers.options.missing_quote", "f:2:5"},
      {"bad_time", "a@b valid-after=\"2025-01-01\" {KEY}", "sign.allowed_signers.options.bad_time",
       "f:2:5"},
      {"bad_month", "a@b valid-before=\"20251301\" {KEY}", "sign.allowed_signers.options.bad_time",
       "f:2:5"},
      {"bad_day", "a@b valid-before=\"20250231Z\" {KEY}", "sign.allowed_signers.options.bad_time",
       "f:2:5"},
      {"unknown_flag_option", "a@b no-touch-required {KEY}", "sign.allowed_signers.options.unknown",
       "f:2:5"},
      {"duplicate", "a@b namespaces=\"a\",namespaces=\"b\" {KEY}",
       "sign.allowed_signers.options.duplicate", "f:2:20"},
      {"no_key", "a@b", "sign.allowed_signers.key.missing", "f:2:4"},
      {"options_no_key", "a@b namespaces=\"lunal\"", "sign.allowed_signers.key.missing", "f:2:23"},
      {"principals_quote", "\"a@b {KEY}", "sign.allowed_signers.principals.unterminated_quote",
       "f:2:1"},
      {"dsa_key", "  a@b ssh-dss AAAAB3NzaC1kc3MAAAA=", "sign.key.unsupported_type", "f:2:7"},
      {"bad_base64", "a@b ssh-ed25519 AAAA!", "sign.key.bad_base64", "f:2:5"},
      {"type_mismatch", "a@b ecdsa-sha2-nistp256 {B64}", "sign.key.type_mismatch", "f:2:5"},
  };
  std::string key_line = Ed25519Line(k);
  std::string b64 = key_line.substr(key_line.find(' ') + 1);
  for (const ParseCase& c : cases) {
    std::string line = c.line;
    if (auto at = line.find("{KEY}"); at != std::string::npos) line.replace(at, 5, key_line);
    if (auto at = line.find("{B64}"); at != std::string::npos) line.replace(at, 5, b64);
    auto signers = AllowedSigners::Parse("# first line\n" + line + "\n", "f");
    ASSERT_FALSE(signers.ok()) << c.name;
    EXPECT_EQ(signers.error().reason(), c.reason) << c.name << ": " << signers.error();
    EXPECT_EQ(signers.error().message().rfind(c.where + ":", 0), 0u)
        << c.name << ": " << signers.error();
  }
}

TEST(AllowedSigners, AuthorizeChecksIdentityKeyNamespaceAndTime) {
  auto k1 = *crypto::PrivateKey::Generate(crypto::KeyType::kEd25519);
  auto k2 = *crypto::PrivateKey::Generate(crypto::KeyType::kEd25519);
  std::string text = "dev@example.com " + Ed25519Line(k1) + "\n" +
                     "*@ops.example.com namespaces=\"git\" " + Ed25519Line(k2) + "\n" +
                     "late@example.com valid-after=\"20260601Z\" " + Ed25519Line(k2) + "\n" +
                     "old@example.com valid-before=\"202512311200Z\" " + Ed25519Line(k2) + "\n";
  auto signers = *AllowedSigners::Parse(text, "f");
  auto ok = signers.Authorize("dev@example.com", SshKey(k1), "lunal", kNow);
  ASSERT_TRUE(ok.ok()) << ok.error();
  EXPECT_EQ((*ok)->line, 1);
  EXPECT_EQ(signers.Authorize("eve@example.com", SshKey(k1), "lunal", kNow).error().reason(),
            "sign.signer.not_allowed");
  EXPECT_EQ(signers.Authorize("dev@example.com", SshKey(k2), "lunal", kNow).error().reason(),
            "sign.signer.not_allowed");
  EXPECT_EQ(signers.Authorize("a@ops.example.com", SshKey(k2), "lunal", kNow).error().reason(),
            "sign.signer.namespace_not_allowed");
  EXPECT_TRUE(signers.Authorize("a@ops.example.com", SshKey(k2), "git", kNow).ok());
  EXPECT_EQ(signers.Authorize("late@example.com", SshKey(k2), "lunal", kNow).error().reason(),
            "sign.signer.not_yet_valid");
  EXPECT_TRUE(
      signers.Authorize("late@example.com", SshKey(k2), "lunal", FromUnixSeconds(1780272000))
          .ok());  // 2026-06-01
  EXPECT_EQ(signers.Authorize("old@example.com", SshKey(k2), "lunal", kNow).error().reason(),
            "sign.signer.expired");
  EXPECT_TRUE(signers.Authorize("old@example.com", SshKey(k2), "lunal", FromUnixSeconds(1767139200))
                  .ok());  // 2025-12-31T00:00Z
}

TEST(AllowedSigners, TooLarge) {
  std::string big(std::size_t{1} << 21, '#');
  auto signers = AllowedSigners::Parse(big, "f");
  ASSERT_FALSE(signers.ok());
  EXPECT_EQ(signers.error().reason(), "sign.allowed_signers.too_large");
}

}  // namespace
}  // namespace lunal::sign
