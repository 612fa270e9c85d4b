// ParseMeshCertificate: a good profile certificate, then one broken rule at a time.
#include "lunal/mesh/identity.h"

#include <gtest/gtest.h>

#include <functional>

#include "lunal/crypto/keys.h"
#include "lunal/mesh/profile.h"
#include "test_ca.h"

namespace lunal::mesh {
namespace {

using testing::Ca;
using testing::Profile;

TEST(MeshProfile, OidArcIsTheUuid) {
  // X.667 §6.3: 2.25.<the UUID as one unsigned integer>; ef67ef4d-0c4a-43af-aa91-8a428873b8d2.
  EXPECT_EQ(kOidArc, "2.25.318225151169291367484866792050312591570");
  EXPECT_TRUE(kOidBuildHash.starts_with(std::string(kOidArc) + "."));
}

TEST(MeshIdentityParse, GoodCertificate) {
  Ca ca = testing::MakeCa();
  Profile profile;
  profile.simulated = true;
  testing::Issued issued = testing::Issue(ca, profile);
  Result<MeshIdentity> id = ParseMeshCertificatePem(issued.cert_pem);
  ASSERT_TRUE(id) << id.error();
  EXPECT_EQ(id->tenant, "acme");
  EXPECT_EQ(id->deployment, "chat");
  EXPECT_EQ(id->instance, "i-1");
  EXPECT_EQ(id->Uri(), "lunal://acme/chat/i-1");
  EXPECT_EQ(id->build_hash, testing::kBuildA);
  EXPECT_EQ(id->tee, "tdx");
  EXPECT_TRUE(id->simulated);
  EXPECT_EQ(id->not_before, profile.not_before);
  EXPECT_EQ(id->not_after, profile.not_after);
  EXPECT_EQ(id->serial_hex, issued.cert.SerialHex());
  Result<crypto::PrivateKey> key = crypto::PrivateKey::FromPem(issued.key_pem);
  ASSERT_TRUE(key);
  EXPECT_EQ(id->spki, *key->PublicKey()->ToSpkiDer());

  Result<MeshIdentity> from_der = ParseMeshCertificateDer(issued.cert.Der());
  ASSERT_TRUE(from_der);
  EXPECT_FALSE(Profile{}.simulated);
  EXPECT_EQ(from_der->Uri(), id->Uri());
}

TEST(MeshIdentityParse, NotSimulatedWithoutTheExtension) {
  Result<MeshIdentity> id = ParseMeshCertificate(testing::Issue(testing::MakeCa()).cert);
  ASSERT_TRUE(id) << id.error();
  EXPECT_FALSE(id->simulated);
  EXPECT_EQ(id->tee, "tdx");
}

TEST(MeshIdentityParse, RefusesGarbage) {
  EXPECT_EQ(ParseMeshCertificateDer(ToBytes("not a certificate")).error().reason(),
            "mesh.cert.parse_failed");
  EXPECT_EQ(ParseMeshCertificatePem("").error().reason(), "mesh.cert.parse_failed");
}

struct Mutation {
  std::string name;
  std::function<crypto::CertificateBuilder(const crypto::PublicKey&)> build;
  std::string reason;
};

crypto::CertificateBuilder With(const crypto::PublicKey& key,
                                const std::function<void(Profile&)>& change) {
  Profile profile;
  change(profile);
  return testing::ProfileBuilder(profile, key);
}

// The profile's builder minus or plus raw pieces, starting from a blank builder.
crypto::CertificateBuilder Bare(const crypto::PublicKey& key, bool eku, bool san, bool build_hash,
                                bool tee) {
  Profile p;
  crypto::CertificateBuilder b;
  b.SubjectCommonName(p.instance).Validity(p.not_before, p.not_after).SubjectKey(key);
  b.KeyUsageBits(crypto::kKeyUsageDigitalSignature);
  if (eku) b.ExtendedKeyUsage({"1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"});
  if (san) b.AddSanUri("lunal://acme/chat/i-1");
  if (build_hash) {
    b.AddExtension(std::string(kOidBuildHash), Utf8StringDer(testing::kBuildA), false);
  }
  if (tee) b.AddExtension(std::string(kOidTeeType), Utf8StringDer("tdx"), false);
  return b;
}

std::vector<Mutation> Mutations() {
  using K = const crypto::PublicKey&;
  auto uri = [](std::string u) {
    return [u](K key) {
      crypto::CertificateBuilder b = Bare(key, true, false, true, true);
      b.AddSanUri(u);
      return b;
    };
  };
  return {
      {"no_san", [](K k) { return Bare(k, true, false, true, true); }, "mesh.cert.san"},
      {"two_uris",
       [](K k) { return testing::ProfileBuilder({}, k).AddSanUri("lunal://acme/chat/i-2"); },
       "mesh.cert.san"},
      {"uri_and_dns", [](K k) { return testing::ProfileBuilder({}, k).AddSanDns("i-1.acme"); },
       "mesh.cert.san"},
      {"https_scheme", uri("https://acme/chat/i-1"), "mesh.cert.uri"},
      {"two_segments", uri("lunal://acme/i-1"), "mesh.cert.uri"},
      {"four_segments", uri("lunal://acme/chat/x/i-1"), "mesh.cert.uri"},
      {"empty_segment", uri("lunal://acme//i-1"), "mesh.cert.uri"},
      {"dotdot_segment", uri("lunal://acme/../i-1"), "mesh.cert.uri"},
      {"percent_segment", uri("lunal://acme/ch%2Fat/i-1"), "mesh.cert.uri"},
      {"query", uri("lunal://acme/chat/i-1?x=1"), "mesh.cert.uri"},
      {"cn_mismatch", [](K k) { return Bare(k, true, true, true, true).SubjectCommonName("i-2"); },
       "mesh.cert.common_name"},
      {"ca_true", [](K k) { return testing::ProfileBuilder({}, k).Ca(true); },
       "mesh.cert.basic_constraints"},
      {"key_encipherment",
       [](K k) {
         return testing::ProfileBuilder({}, k).KeyUsageBits(crypto::kKeyUsageDigitalSignature |
                                                            crypto::kKeyUsageKeyEncipherment);
       },
       "mesh.cert.key_usage"},
      {"no_eku", [](K k) { return Bare(k, false, true, true, true); },
       "mesh.cert.extended_key_usage"},
      {"server_auth_only",
       [](K k) { return testing::ProfileBuilder({}, k).ExtendedKeyUsage({"1.3.6.1.5.5.7.3.1"}); },
       "mesh.cert.extended_key_usage"},
      {"extra_eku",
       [](K k) {
         return testing::ProfileBuilder({}, k).ExtendedKeyUsage(
             {"1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2", "1.3.6.1.5.5.7.3.3"});
       },
       "mesh.cert.extended_key_usage"},
      {"no_build_hash", [](K k) { return Bare(k, true, true, false, true); },
       "mesh.cert.build_hash"},
      {"uppercase_build_hash",
       [](K k) {
         return With(k, [](Profile& p) { p.build_hash = "sha256:" + std::string(64, 'A'); });
       },
       "mesh.cert.build_hash"},
      {"short_build_hash", [](K k) { return With(k, [](Profile& p) { p.build_hash.pop_back(); }); },
       "mesh.cert.build_hash"},
      {"build_hash_octets",
       [](K k) {
         crypto::CertificateBuilder b = Bare(k, true, true, false, true);
         Bytes octets{0x04, 0x20};
         octets.resize(34, 0xaa);
         return b.AddExtension(std::string(kOidBuildHash), octets, false);
       },
       "mesh.cert.build_hash"},
      {"build_hash_trailing",
       [](K k) {
         crypto::CertificateBuilder b = Bare(k, true, true, false, true);
         Bytes value = Utf8StringDer(testing::kBuildA);
         value.push_back(0);
         return b.AddExtension(std::string(kOidBuildHash), value, false);
       },
       "mesh.cert.build_hash"},
      {"build_hash_critical",
       [](K k) {
         return Bare(k, true, true, false, true)
             .AddExtension(std::string(kOidBuildHash), Utf8StringDer(testing::kBuildA), true);
       },
       "mesh.cert.critical_extension"},
      {"no_tee", [](K k) { return Bare(k, true, true, true, false); }, "mesh.cert.tee_type"},
      {"tee_sgx", [](K k) { return With(k, [](Profile& p) { p.tee = "sgx"; }); },
       "mesh.cert.tee_type"},
      {"simulated_false",
       [](K k) {
         return testing::ProfileBuilder({}, k).AddExtension(std::string(kOidSimulated),
                                                            testing::BooleanDer(false), false);
       },
       "mesh.cert.simulated"},
      {"unknown_critical",
       [](K k) {
         return testing::ProfileBuilder({}, k).AddExtension("1.2.3.4.5", {0x05, 0x00}, true);
       },
       "mesh.cert.critical_extension"},
      {"duplicate_tee",
       [](K k) {
         return testing::ProfileBuilder({}, k).AddExtension(std::string(kOidTeeType),
                                                            Utf8StringDer("sev-snp"), false);
       },
       "mesh.cert.duplicate_extension"},
  };
}

TEST(MeshIdentityParse, EachBrokenRuleHasItsReason) {
  Ca ca = testing::MakeCa();
  Result<crypto::PrivateKey> key = crypto::PrivateKey::Generate(crypto::KeyType::kEcP256);
  ASSERT_TRUE(key);
  crypto::PublicKey pub = *key->PublicKey();
  for (const Mutation& m : Mutations()) {
    SCOPED_TRACE(m.name);
    testing::Issued issued = testing::IssueWith(ca, m.build(pub), *key);
    Result<MeshIdentity> id = ParseMeshCertificate(issued.cert);
    ASSERT_FALSE(id) << "accepted " << m.name;
    EXPECT_EQ(id.error().code(), Code::kMalformed);
    EXPECT_EQ(id.error().reason(), m.reason) << id.error();
  }
}

TEST(MeshIdentityParse, RefusesP384Key) {
  Result<crypto::PrivateKey> key = crypto::PrivateKey::Generate(crypto::KeyType::kEcP384);
  ASSERT_TRUE(key);
  testing::Issued issued =
      testing::IssueWith(testing::MakeCa(), testing::ProfileBuilder({}, *key->PublicKey()), *key);
  EXPECT_EQ(ParseMeshCertificate(issued.cert).error().reason(), "mesh.cert.key_type");
}

TEST(MeshIdentityParse, SafeSegments) {
  for (std::string_view good : {"a", "acme", "A-Z_0.9~", "i-1"}) {
    EXPECT_TRUE(IsSafeSegment(good)) << good;
  }
  EXPECT_TRUE(IsSafeSegment(std::string(64, 'a')));
  EXPECT_FALSE(IsSafeSegment(std::string(65, 'a')));
  for (std::string_view bad : {"", ".", "..", "a/b", "a b", "a%2F", "a?b", "a#b", "é", "a:b"}) {
    EXPECT_FALSE(IsSafeSegment(bad)) << bad;
  }
  EXPECT_EQ(*MeshUri("acme", "chat", "i-1"), "lunal://acme/chat/i-1");
  EXPECT_EQ(MeshUri("acme", "..", "i-1").error().reason(), "mesh.cert.uri");
}

}  // namespace
}  // namespace lunal::mesh
