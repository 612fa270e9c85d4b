// Test support: a throwaway mesh CA issuing certificates in the profile of profile.h with
// src/crypto's CertificateBuilder (the CDS's real issuance lives in src/cds), plus the pieces to
// build deliberately broken ones.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "lunal/common/bytes.h"
#include "lunal/crypto/keys.h"
#include "lunal/crypto/x509.h"
#include "lunal/crypto/x509_builder.h"

namespace lunal::mesh::testing {

inline constexpr std::string_view kBuildA =
    "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
inline constexpr std::string_view kBuildB =
    "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

// 2026-06-01T12:00:00Z: the tests' "now".
std::chrono::sys_seconds TestNow();

struct Ca {
  std::shared_ptr<crypto::PrivateKey> key;
  crypto::Certificate cert;
  std::string pem;
};

// A self-signed P-256 CA ("CN=<cn>, O=Lunal"), valid a year around TestNow().
Ca MakeCa(const std::string& cn = "Lunal CDS CA");
// An intermediate CA signed by `root`.
Ca MakeIntermediate(const Ca& root, const std::string& cn);

struct Profile {
  std::string tenant = "acme";
  std::string deployment = "chat";
  std::string instance = "i-1";
  std::string build_hash = std::string(kBuildA);
  std::string tee = "tdx";
  bool simulated = false;
  std::chrono::sys_seconds not_before = TestNow() - std::chrono::seconds(60);
  std::chrono::sys_seconds not_after = TestNow() + std::chrono::hours(1);
};

// DER of a BOOLEAN (X.690 §8.2), for the simulated flag (UTF8String: mesh::Utf8StringDer).
Bytes BooleanDer(bool value);

// A builder holding everything the profile puts in a certificate for `profile` and `subject_key`;
// tests change it to break one rule at a time.
crypto::CertificateBuilder ProfileBuilder(const Profile& profile,
                                          const crypto::PublicKey& subject_key);

struct Issued {
  crypto::Certificate cert;
  std::string cert_pem;
  std::string chain_pem;  // cert_pem plus any intermediates
  std::string key_pem;
};

// A fresh P-256 key and its profile certificate from `ca` (fails the test on error).
Issued Issue(const Ca& ca, const Profile& profile = {});
// Signed by `builder` as given (for broken profiles); key_pem is `key`'s.
Issued IssueWith(const Ca& ca, const crypto::CertificateBuilder& builder,
                 const crypto::PrivateKey& key);

}  // namespace lunal::mesh::testing
