#include "test_ca.h"

#include <gtest/gtest.h>

#include "lunal/mesh/profile.h"

namespace lunal::mesh::testing {

std::chrono::sys_seconds TestNow() {
  using namespace std::chrono;
  return sys_days(year(2026) / June / 1) + hours(12);
}

namespace {

template <typename T>
T Must(Result<T> result, std::string_view what) {
  if (!result) {
    ADD_FAILURE() << what << ": " << result.error();
    std::abort();
  }
  return std::move(*result);
}

}  // namespace

Ca MakeCa(const std::string& cn) {
  auto key = std::make_shared<crypto::PrivateKey>(
      Must(crypto::PrivateKey::Generate(crypto::KeyType::kEcP256), "CA key"));
  crypto::CertificateBuilder builder;
  builder.SubjectCommonName(cn)
      .SubjectOrganization("Lunal")
      .Validity(TestNow() - std::chrono::hours(24 * 180), TestNow() + std::chrono::hours(24 * 180))
      .Ca(true);
  crypto::Certificate cert = Must(builder.SelfSign(*key), "CA certificate");
  return Ca{.key = key, .cert = cert, .pem = cert.ToPem()};
}

Ca MakeIntermediate(const Ca& root, const std::string& cn) {
  auto key = std::make_shared<crypto::PrivateKey>(
      Must(crypto::PrivateKey::Generate(crypto::KeyType::kEcP256), "intermediate key"));
  crypto::CertificateBuilder builder;
  builder.SubjectCommonName(cn)
      .SubjectOrganization("Lunal")
      .Validity(TestNow() - std::chrono::hours(24 * 30), TestNow() + std::chrono::hours(24 * 30))
      .SubjectKey(Must(key->PublicKey(), "intermediate public key"))
      .Ca(true, 0);
  crypto::Certificate cert = Must(builder.SignWith(root.cert, *root.key), "intermediate");
  return Ca{.key = key, .cert = cert, .pem = cert.ToPem()};
}

Bytes BooleanDer(bool value) { return {0x01, 0x01, static_cast<std::uint8_t>(value ? 0xff : 0)}; }

crypto::CertificateBuilder ProfileBuilder(const Profile& profile,
                                          const crypto::PublicKey& subject_key) {
  crypto::CertificateBuilder builder;
  builder.SubjectCommonName(profile.instance)
      .Validity(profile.not_before, profile.not_after)
      .SubjectKey(subject_key)
      .Ca(false)
      .KeyUsageBits(crypto::kKeyUsageDigitalSignature)
      .ExtendedKeyUsage({"1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"})
      .AddSanUri("lunal://" + profile.tenant + "/" + profile.deployment + "/" + profile.instance)
      .AddExtension(std::string(kOidBuildHash), Utf8StringDer(profile.build_hash), false)
      .AddExtension(std::string(kOidTeeType), Utf8StringDer(profile.tee), false);
  if (profile.simulated) {
    builder.AddExtension(std::string(kOidSimulated), BooleanDer(true), false);
  }
  return builder;
}

Issued IssueWith(const Ca& ca, const crypto::CertificateBuilder& builder,
                 const crypto::PrivateKey& key) {
  crypto::Certificate cert = Must(builder.SignWith(ca.cert, *ca.key), "mesh certificate");
  std::string pem = cert.ToPem();
  return Issued{.cert = cert,
                .cert_pem = pem,
                .chain_pem = pem,
                .key_pem = Must(key.ToPkcs8Pem(), "key PEM")};
}

Issued Issue(const Ca& ca, const Profile& profile) {
  crypto::PrivateKey key = Must(crypto::PrivateKey::Generate(crypto::KeyType::kEcP256), "key");
  return IssueWith(ca, ProfileBuilder(profile, Must(key.PublicKey(), "public key")), key);
}

}  // namespace lunal::mesh::testing
