#include "lunal/crypto/dsse.h"

#include <gtest/gtest.h>

#include <string>

#include "lunal/common/encoding.h"
#include "lunal/common/json.h"
#include "lunal/crypto/signature.h"
#include "test_support.h"

namespace lunal::crypto {
namespace {

constexpr std::string_view kType = "application/vnd.in-toto+json";

DsseEnvelope Unsigned(std::string_view body) {
  return DsseEnvelope{.payload_type = std::string(kType), .payload = ToBytes(body)};
}

// protocol.md "Test Vectors": PAE("http://example.com/HelloWorld", "hello world").
TEST(Dsse, PaeMatchesTheSpecVector) {
  EXPECT_EQ(ToString(Pae("http://example.com/HelloWorld", AsBytes("hello world"))),
            "DSSEv1 29 http://example.com/HelloWorld 11 hello world");
  // Empty type and body: lengths are "0", not omitted.
  EXPECT_EQ(ToString(Pae("", {})), "DSSEv1 0  0 ");
  // Lengths count bytes, not characters (UTF-8 "é" is two bytes).
  EXPECT_EQ(ToString(Pae("t", AsBytes("\xc3\xa9"))), "DSSEv1 1 t 2 \xc3\xa9");
}

class DsseKeys : public ::testing::TestWithParam<KeyType> {};

TEST_P(DsseKeys, SignSerializeParseVerify) {
  auto key = PrivateKey::Generate(GetParam());
  ASSERT_TRUE(key.has_value()) << key.error();
  auto pub = key->PublicKey();
  ASSERT_TRUE(pub.has_value());

  DsseEnvelope env = Unsigned(R"({"_type":"https://in-toto.io/Statement/v1"})");
  auto sig = SignDsse(env, *key, "k1");
  ASSERT_TRUE(sig.has_value()) << sig.error();
  env.signatures.push_back(*sig);

  const std::string text = SerializeDsse(env);
  auto parsed = ParseDsse(text);
  ASSERT_TRUE(parsed.has_value()) << parsed.error();
  EXPECT_EQ(parsed->payload, env.payload);
  EXPECT_EQ(parsed->payload_type, env.payload_type);
  ASSERT_EQ(parsed->signatures.size(), 1u);
  EXPECT_EQ(parsed->signatures[0].keyid, "k1");
  EXPECT_OK(VerifyDsse(*parsed, *pub));
  EXPECT_OK(VerifyDsse(*parsed, *pub, "k1"));
  EXPECT_ERROR(VerifyDsse(*parsed, *pub, "k2"), Code::kVerificationFailed,
               "crypto.dsse.no_matching_signature");

  // Every authenticated input changed fails: a payload byte, the type, a signature byte.
  for (std::size_t i = 0; i < env.payload.size(); i += 7) {
    DsseEnvelope bad = *parsed;
    bad.payload[i] ^= 0x01;
    EXPECT_ERROR(VerifyDsse(bad, *pub), Code::kVerificationFailed, "crypto.dsse.signature_invalid");
  }
  DsseEnvelope bad_type = *parsed;
  bad_type.payload_type = "application/vnd.in-toto+jsoN";
  EXPECT_ERROR(VerifyDsse(bad_type, *pub), Code::kVerificationFailed,
               "crypto.dsse.signature_invalid");
  for (std::size_t i = 0; i < parsed->signatures[0].sig.size(); i += 5) {
    DsseEnvelope bad = *parsed;
    bad.signatures[0].sig[i] ^= 0x40;
    EXPECT_ERROR(VerifyDsse(bad, *pub), Code::kVerificationFailed, "crypto.dsse.signature_invalid");
  }
  // Moving bytes between type and body keeps the concatenation but not the PAE.
  DsseEnvelope shifted = *parsed;
  shifted.payload_type += "{";
  shifted.payload.erase(shifted.payload.begin());
  EXPECT_ERROR(VerifyDsse(shifted, *pub), Code::kVerificationFailed,
               "crypto.dsse.signature_invalid");

  // Another key of the same type.
  auto other = PrivateKey::Generate(GetParam());
  ASSERT_TRUE(other.has_value());
  EXPECT_ERROR(VerifyDsse(*parsed, *other->PublicKey()), Code::kVerificationFailed,
               "crypto.dsse.signature_invalid");

  // A second, bad signature does not spoil a good one (any-of semantics, envelope.md).
  DsseEnvelope two = *parsed;
  two.signatures.insert(two.signatures.begin(), DsseSignature{.keyid = "x", .sig = Bytes(64, 1)});
  EXPECT_OK(VerifyDsse(two, *pub));
}

INSTANTIATE_TEST_SUITE_P(KeyTypes, DsseKeys,
                         ::testing::Values(KeyType::kEcP256, KeyType::kEcP384, KeyType::kEd25519));

TEST(Dsse, EcdsaSignaturesAreDerOverTheHashOfThePae) {
  // Independent of SignDsse: a DER signature over the PAE made with the signature API verifies.
  auto key = PrivateKey::Generate(KeyType::kEcP256);
  ASSERT_TRUE(key.has_value());
  DsseEnvelope env = Unsigned("body");
  auto der = SignEcdsaDer(*key, DigestAlgorithm::kSha256, Pae(env.payload_type, env.payload));
  ASSERT_TRUE(der.has_value());
  env.signatures.push_back(DsseSignature{.keyid = "", .sig = *der});
  EXPECT_OK(VerifyDsse(env, *key->PublicKey()));
  // Raw r‖s is not what DSSE ECDSA carries.
  auto raw = SignEcdsaRaw(*key, DigestAlgorithm::kSha256, Pae(env.payload_type, env.payload));
  ASSERT_TRUE(raw.has_value());
  env.signatures[0].sig = *raw;
  EXPECT_ERROR(VerifyDsse(env, *key->PublicKey()), Code::kVerificationFailed,
               "crypto.dsse.signature_invalid");
}

TEST(Dsse, ParseAcceptsWhatTheSpecAllows) {
  // keyid absent = empty; unknown members ignored; extension kept; URL-safe base64 accepted.
  const std::string body = "\xfb\xff\xfe";  // standard "+//+", URL-safe "-__-"
  auto parsed = ParseDsse(
      R"({"payload":"-__-","payloadType":"t","future":1,)"
      R"("signatures":[{"sig":"AA==","extension":{"kind":"k","ext":{"a":1}},"x":true}]})");
  ASSERT_TRUE(parsed.has_value()) << parsed.error();
  EXPECT_EQ(ToString(parsed->payload), body);
  EXPECT_EQ(parsed->signatures[0].keyid, "");
  EXPECT_EQ(parsed->signatures[0].extension["ext"]["a"], 1);
  // The extension survives a round trip; unknown members do not (we never write them).
  auto again = ParseDsse(SerializeDsse(*parsed));
  ASSERT_TRUE(again.has_value()) << again.error();
  EXPECT_EQ(again->signatures[0].extension, parsed->signatures[0].extension);
  EXPECT_EQ(SerializeDsse(*again), SerializeDsse(*parsed));
  // Empty payload is allowed ("MUST be set, even if empty").
  EXPECT_TRUE(ParseDsse(R"({"payload":"","payloadType":"","signatures":[{"sig":""}]})").ok());
}

TEST(Dsse, SerializeIsStandardBase64InByteOrder) {
  DsseEnvelope env = Unsigned("\xfb\xff");
  env.signatures.push_back(DsseSignature{.keyid = "id", .sig = {0xff}});
  EXPECT_EQ(SerializeDsse(env), R"({"payload":"+/8=","payloadType":"application/vnd.in-toto+json",)"
                                R"("signatures":[{"keyid":"id","sig":"/w=="}]})");
}

TEST(Dsse, ParseRejectsTable) {
  struct Case {
    const char* json;
    Code code;
    const char* reason;
  };
  const Case cases[] = {
      {"", Code::kMalformed, "crypto.dsse.bad_json"},
      {R"({"payload":"","payload":"","payloadType":"t","signatures":[{"sig":""}]})",
       Code::kMalformed, "crypto.dsse.bad_json"},
      {R"([])", Code::kMalformed, "crypto.dsse.wrong_type"},
      {R"({"payloadType":"t","signatures":[{"sig":""}]})", Code::kMalformed,
       "crypto.dsse.missing_field"},
      {R"({"payload":"","signatures":[{"sig":""}]})", Code::kMalformed,
       "crypto.dsse.missing_field"},
      {R"({"payload":"","payloadType":"t"})", Code::kMalformed, "crypto.dsse.missing_field"},
      {R"({"payload":"","payloadType":"t","signatures":[{"keyid":"k"}]})", Code::kMalformed,
       "crypto.dsse.missing_field"},
      {R"({"payload":"","payloadType":"t","signatures":[]})", Code::kMalformed,
       "crypto.dsse.no_signatures"},
      {R"({"payload":1,"payloadType":"t","signatures":[{"sig":""}]})", Code::kMalformed,
       "crypto.dsse.wrong_type"},
      {R"({"payload":"","payloadType":null,"signatures":[{"sig":""}]})", Code::kMalformed,
       "crypto.dsse.wrong_type"},
      {R"({"payload":"","payloadType":"t","signatures":{}})", Code::kMalformed,
       "crypto.dsse.wrong_type"},
      {R"({"payload":"","payloadType":"t","signatures":["x"]})", Code::kMalformed,
       "crypto.dsse.wrong_type"},
      {R"({"payload":"","payloadType":"t","signatures":[{"sig":"","keyid":3}]})", Code::kMalformed,
       "crypto.dsse.wrong_type"},
      {R"({"payload":"YQ=","payloadType":"t","signatures":[{"sig":""}]})", Code::kMalformed,
       "crypto.dsse.bad_base64"},
      {R"({"payload":"YR==","payloadType":"t","signatures":[{"sig":""}]})", Code::kMalformed,
       "crypto.dsse.bad_base64"},  // non-canonical: unused bits set
      {R"({"payload":"+_==","payloadType":"t","signatures":[{"sig":""}]})", Code::kMalformed,
       "crypto.dsse.bad_base64"},  // mixed alphabets
      {R"({"payload":"","payloadType":"t","signatures":[{"sig":"A A="}]})", Code::kMalformed,
       "crypto.dsse.bad_base64"},
      {R"({"payload":"","payloadType":"t","signatures":[{"sig":"","extension":"x"}]})",
       Code::kMalformed, "crypto.dsse.bad_extension"},
      {R"({"payload":"","payloadType":"t","signatures":[{"sig":"","extension":{"ext":{}}}]})",
       Code::kMalformed, "crypto.dsse.bad_extension"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.json);
    EXPECT_ERROR(ParseDsse(c.json), c.code, c.reason);
  }
}

TEST(Dsse, UnsupportedKeys) {
  auto x25519 = PrivateKey::Generate(KeyType::kX25519);
  ASSERT_TRUE(x25519.has_value());
  EXPECT_ERROR(SignDsse(Unsigned("b"), *x25519, ""), Code::kUnsupported,
               "crypto.dsse.unsupported_key");
  DsseEnvelope env = Unsigned("b");
  env.signatures.push_back({});
  EXPECT_ERROR(VerifyDsse(env, *x25519->PublicKey()), Code::kUnsupported,
               "crypto.dsse.unsupported_key");
}

}  // namespace
}  // namespace lunal::crypto
