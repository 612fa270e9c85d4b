#include "lunal/sign/sshsig.h"

#include <gtest/gtest.h>

#include <functional>

#include "lunal/common/encoding.h"
#include "lunal/crypto/signature.h"
#include "test_util.h"

namespace lunal::sign {
namespace {

using test::Armor;
using test::Cat;
using test::Str;
using test::StrB;

const Bytes kMessage = ToBytes("build hash 0123456789abcdef\n");

// The fields of a blob, so each test can break one.
struct Fields {
  std::string magic = "SSHSIG";
  std::uint32_t version = 1;
  Bytes publickey;
  std::string ns = "lunal";
  std::string reserved;
  std::string hash = "sha512";
  Bytes signature;  // string sig-type, string sig-blob
  Bytes trailer;

  Bytes Encode() const {
    Bytes out(magic.begin(), magic.end());
    internal::AppendU32(out, version);
    return Cat({out, StrB(publickey), Str(ns), Str(reserved), Str(hash), StrB(signature), trailer});
  }
};

// A correct Ed25519 SSHSIG over kMessage made with lunal::crypto (PROTOCOL.sshsig §4).
Fields SignedEd25519(const crypto::PrivateKey& key, std::string_view ns = "lunal",
                     std::string_view hash = "sha512") {
  Fields f;
  f.publickey = Cat({Str("ssh-ed25519"), StrB(*key.PublicKey()->RawPublic())});
  f.ns = std::string(ns);
  f.hash = std::string(hash);
  Bytes signed_data = *SshSigSignedData(ns, hash, kMessage);
  f.signature = Cat({Str("ssh-ed25519"), StrB(*crypto::SignEd25519(key, signed_data))});
  return f;
}

// mpint encoding of a positive big-endian magnitude (RFC 4251 §5).
Bytes Mpint(ByteSpan magnitude) {
  std::size_t i = 0;
  while (i < magnitude.size() && magnitude[i] == 0) ++i;
  Bytes v(magnitude.begin() + static_cast<std::ptrdiff_t>(i), magnitude.end());
  if (!v.empty() && (v[0] & 0x80)) v.insert(v.begin(), 0);
  return StrB(v);
}

TEST(SshSig, SignedDataLayout) {
  Bytes data = *SshSigSignedData("lunal", "sha256", kMessage);
  auto h = crypto::Sha256(kMessage);
  Bytes expected = Cat({ToBytes("SSHSIG"), Str("lunal"), Str(""), Str("sha256"), StrB(h)});
  EXPECT_EQ(data, expected);
  auto bad = SshSigSignedData("lunal", "sha1", kMessage);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().reason(), "sign.sshsig.hash_algorithm.unsupported");
}

TEST(SshSig, VerifiesEd25519BothHashes) {
  auto key = *crypto::PrivateKey::Generate(crypto::KeyType::kEd25519);
  for (std::string_view hash : {"sha256", "sha512"}) {
    auto sig = ParseArmoredSshSignature(Armor(SignedEd25519(key, "lunal", hash).Encode()));
    ASSERT_TRUE(sig.ok()) << sig.error();
    EXPECT_EQ(sig->hash_algorithm, hash);
    EXPECT_EQ(sig->namespace_, "lunal");
    EXPECT_TRUE(VerifySshSignature(*sig, kMessage, "lunal").ok());
    Status other = VerifySshSignature(*sig, ToBytes("build hash 0123456789abcdeF\n"), "lunal");
    EXPECT_EQ(other.reason(), "sign.sshsig.signature.invalid");
    EXPECT_EQ(other.code(), Code::kVerificationFailed);
    EXPECT_EQ(VerifySshSignature(*sig, kMessage, "git").reason(), "sign.sshsig.namespace.mismatch");
  }
}

TEST(SshSig, VerifiesEcdsaWithMpints) {
  auto key = *crypto::PrivateKey::Generate(crypto::KeyType::kEcP256);
  Bytes q{0x04};
  Bytes xy = *key.PublicKey()->EcPoint();
  q.insert(q.end(), xy.begin(), xy.end());
  Fields f;
  f.publickey = Cat({Str("ecdsa-sha2-nistp256"), Str("nistp256"), StrB(q)});
  Bytes signed_data = *SshSigSignedData("lunal", "sha512", kMessage);
  Bytes rs = *crypto::SignEcdsaRaw(key, crypto::DigestAlgorithm::kSha256, signed_data);
  ByteSpan r(rs.data(), 32), s(rs.data() + 32, 32);
  f.signature = Cat({Str("ecdsa-sha2-nistp256"), StrB(Cat({Mpint(r), Mpint(s)}))});
  auto sig = ParseSshSignatureBlob(f.Encode());
  ASSERT_TRUE(sig.ok()) << sig.error();
  EXPECT_TRUE(VerifySshSignature(*sig, kMessage, "lunal").ok());

  // The P-384 signature type on a P-256 key is refused before any cryptography.
  f.signature = Cat({Str("ecdsa-sha2-nistp384"), StrB(Cat({Mpint(r), Mpint(s)}))});
  auto mismatch = ParseSshSignatureBlob(f.Encode());
  ASSERT_FALSE(mismatch.ok());
  EXPECT_EQ(mismatch.error().reason(), "sign.sshsig.signature_type_mismatch");

  // A non-minimal mpint for r (an extra zero byte) is malformed.
  Bytes padded_r{0x00, 0x00};
  padded_r.insert(padded_r.end(), r.begin(), r.end());
  f.signature = Cat({Str("ecdsa-sha2-nistp256"), StrB(Cat({StrB(padded_r), Mpint(s)}))});
  auto bad = ParseSshSignatureBlob(f.Encode());
  ASSERT_TRUE(bad.ok());
  EXPECT_EQ(VerifySshSignature(*bad, kMessage, "lunal").reason(),
            "sign.sshsig.ecdsa_r.non_minimal");
}

struct Mutation {
  std::string name;
  std::function<void(Fields&)> apply;
  std::string reason;
  Code code;
};

TEST(SshSig, StructureErrors) {
  auto key = *crypto::PrivateKey::Generate(crypto::KeyType::kEd25519);
  const Mutation cases[] = {
      {"magic", [](Fields& f) { f.magic = "SSHSIH"; }, "sign.sshsig.magic.mismatch",
       Code::kMalformed},
      {"version", [](Fields& f) { f.version = 2; }, "sign.sshsig.version.unsupported",
       Code::kUnsupported},
      {"reserved", [](Fields& f) { f.reserved = "x"; }, "sign.sshsig.reserved.not_empty",
       Code::kUnsupported},
      {"hash_sha1", [](Fields& f) { f.hash = "sha1"; }, "sign.sshsig.hash_algorithm.unsupported",
       Code::kUnsupported},
      {"hash_case", [](Fields& f) { f.hash = "SHA512"; }, "sign.sshsig.hash_algorithm.unsupported",
       Code::kUnsupported},
      {"namespace_empty", [](Fields& f) { f.ns.clear(); }, "sign.sshsig.namespace.empty",
       Code::kMalformed},
      {"trailing", [](Fields& f) { f.trailer = {0}; }, "sign.sshsig.trailing_bytes",
       Code::kMalformed},
      {"sig_trailing", [](Fields& f) { f.signature.push_back(0); },
       "sign.sshsig.signature.trailing_bytes", Code::kMalformed},
      {"sig_type_rsa",
       [](Fields& f) {
         f.signature = Cat({Str("rsa-sha2-512"), Str("x")});
       },
       "sign.sshsig.signature_type_mismatch", Code::kUnsupported},
      {"key_type",
       [](Fields& f) {
         f.publickey = Cat({Str("ssh-dss"), Str("x")});
       },
       "sign.key.unsupported_type", Code::kUnsupported},
  };
  for (const Mutation& c : cases) {
    Fields f = SignedEd25519(key);
    c.apply(f);
    auto sig = ParseSshSignatureBlob(f.Encode());
    ASSERT_FALSE(sig.ok()) << c.name;
    EXPECT_EQ(sig.error().reason(), c.reason) << c.name << ": " << sig.error();
    EXPECT_EQ(sig.error().code(), c.code) << c.name;
  }
}

TEST(SshSig, EveryTruncationIsRefused) {
  auto key = *crypto::PrivateKey::Generate(crypto::KeyType::kEd25519);
  Bytes blob = SignedEd25519(key).Encode();
  for (std::size_t n = 0; n < blob.size(); ++n) {
    auto sig = ParseSshSignatureBlob(ByteSpan(blob.data(), n));
    ASSERT_FALSE(sig.ok()) << n;
    EXPECT_EQ(sig.error().code(), Code::kMalformed) << n << ": " << sig.error();
    EXPECT_NE(sig.error().reason().find(".truncated"), std::string::npos) << sig.error();
  }
}

TEST(SshSig, EveryFlippedByteFailsParseOrVerify) {
  auto key = *crypto::PrivateKey::Generate(crypto::KeyType::kEd25519);
  Bytes blob = SignedEd25519(key).Encode();
  for (std::size_t i = 0; i < blob.size(); ++i) {
    Bytes mutated = blob;
    mutated[i] ^= 0x01;
    auto sig = ParseSshSignatureBlob(mutated);
    if (sig.ok()) {
      EXPECT_FALSE(VerifySshSignature(*sig, kMessage, "lunal").ok()) << "byte " << i;
    }
  }
}

TEST(SshSig, ArmorErrors) {
  auto key = *crypto::PrivateKey::Generate(crypto::KeyType::kEd25519);
  std::string good = Armor(SignedEd25519(key).Encode());
  ASSERT_TRUE(ParseArmoredSshSignature(good).ok());
  std::string crlf;
  for (char c : good) {
    if (c == '\n') crlf += '\r';
    crlf += c;
  }
  EXPECT_TRUE(ParseArmoredSshSignature(crlf).ok());
  struct Case {
    std::string text;
    std::string reason;
  } cases[] = {
      {"", "sign.sshsig.armor.missing_begin"},
      {"-----BEGIN SSH SIGNATURE-----\nAAAA\n", "sign.sshsig.armor.missing_end"},
      {"x" + good, "sign.sshsig.armor.missing_begin"},
      {" " + good, "sign.sshsig.armor.trailing_text"},
      {good + "junk\n", "sign.sshsig.armor.trailing_text"},
      {"-----BEGIN SSH SIGNATURE-----\nAA*A\n-----END SSH SIGNATURE-----\n",
       "sign.sshsig.armor.bad_base64"},
      {"-----BEGIN SSH SIGNATURE-----\nU1NIU0lH\n-----END SSH SIGNATURE-----\n",
       "sign.sshsig.version.truncated"},
  };
  for (const Case& c : cases) {
    auto sig = ParseArmoredSshSignature(c.text);
    ASSERT_FALSE(sig.ok()) << c.text;
    EXPECT_EQ(sig.error().reason(), c.reason) << c.text << ": " << sig.error();
  }
}

}  // namespace
}  // namespace lunal::sign
