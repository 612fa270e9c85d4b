// Issue 7 "Done when", one test per bullet, with sim-tdx instances against a CDS in a temporary
// folder (verification through the engine's LocalVerifier trusting the simulation root).
#include <gtest/gtest.h>

#include "lunal/common/files.h"
#include "lunal/crypto/signature.h"
#include "lunal/crypto/x509.h"
#include "lunal/mesh/profile.h"
#include "lunal/net/client.h"
#include "lunal/net/server.h"
#include "test_support.h"
#ifdef LUNAL_CDS_TEST_HAVE_MESH
#include "lunal/mesh/peer.h"
#endif

namespace lunal::cds {
namespace {

using testing::BuildHash;
using testing::CdsFixture;
using testing::Entry;
using testing::Instance;
using testing::SignManifest;

class CdsTest : public CdsFixture {};

bool Contains(ByteSpan haystack, std::string_view needle) {
  return AsStringView(haystack).find(needle) != std::string_view::npos;
}

// ---- a good instance gets a certificate; mTLS between two such instances ----

TEST_F(CdsTest, GoodInstanceGetsProfileCertificateThatOpensslVerifies) {
  auto in = MakeInstance(BuildHash('a'));
  auto issued = cds_->IssueCertificate(Request(in, Nonce()));
  ASSERT_TRUE(issued.ok()) << issued.error();
  EXPECT_EQ(issued->uri, "lunal://acme/api/i-1");
  EXPECT_EQ(issued->tee, "tdx");
  EXPECT_TRUE(issued->simulated);
  EXPECT_EQ(issued->not_after - issued->not_before, std::chrono::seconds(3600 + 60));

  auto cert = crypto::Certificate::FromPem(issued->certificate_pem);
  ASSERT_TRUE(cert.ok());
  EXPECT_EQ(cert->SubjectCommonName(), "i-1");
  EXPECT_FALSE(cert->IsCa());
  EXPECT_TRUE(*cert->PublicKey() == *in.key.PublicKey());
  EXPECT_EQ(cert->Extension(mesh::kOidBuildHash), mesh::Utf8StringDer(BuildHash('a')));
  EXPECT_EQ(cert->Extension(mesh::kOidTeeType), mesh::Utf8StringDer("tdx"));
  EXPECT_EQ(cert->Extension(mesh::kOidSimulated), (Bytes{0x01, 0x01, 0xff}));
  auto san = cert->Extension("2.5.29.17");
  ASSERT_TRUE(san.has_value());
  EXPECT_TRUE(Contains(*san, "lunal://acme/api/i-1"));
  EXPECT_TRUE(cert->VerifySignedBy(cds_->ca_certificate()).ok());

  if (!lunal::testing::HaveProgram("openssl")) GTEST_SKIP() << "no openssl";
  lunal::testing::WriteFile(dir_ / "ca.pem", issued->ca_pem);
  lunal::testing::WriteFile(dir_ / "leaf.pem", issued->certificate_pem);
  auto r = lunal::testing::RunProcess({"openssl", "verify", "-x509_strict", "-purpose", "sslclient",
                                       "-CAfile", (dir_ / "ca.pem").string(),
                                       (dir_ / "leaf.pem").string()});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  // The URI SAN as OpenSSL prints it.
  auto text = lunal::testing::RunProcess(
      {"openssl", "x509", "-noout", "-text", "-in", (dir_ / "leaf.pem").string()});
  EXPECT_NE(text.out.find("URI:lunal://acme/api/i-1"), std::string::npos) << text.out;
}

TEST_F(CdsTest, TwoIssuedInstancesConnectWithMutualTls) {
  auto a = MakeInstance(BuildHash('a'));
  auto b = MakeInstance(BuildHash('c'));
  auto cert_a = cds_->IssueCertificate(Request(a, Nonce(), "acme", "api", "server-a"));
  auto cert_b = cds_->IssueCertificate(Request(b, Nonce(), "acme", "api", "client-b"));
  ASSERT_TRUE(cert_a.ok()) << cert_a.error();
  ASSERT_TRUE(cert_b.ok()) << cert_b.error();

  net::Router router;
  ASSERT_TRUE(router
                  .Add("GET", "/peer",
                       [](net::HttpRequest& req) {
                         auto peer = crypto::Certificate::FromDer(req.peer_certificate_der);
                         return net::HttpResponse::Text(
                             200, peer.ok() ? peer->SubjectCommonName() : "none");
                       })
                  .ok());
  net::HttpServer server({.tls = net::TlsServerOptions{.cert_chain_pem = cert_a->certificate_pem,
                                                       .private_key_pem = *a.key.ToPkcs8Pem(),
                                                       .client_ca_pem = cert_a->ca_pem,
                                                       .require_client_cert = true}},
                         std::move(router));
  ASSERT_TRUE(server.Start().ok());
  const std::string url = fmt::format("https://127.0.0.1:{}/peer", server.port());

  net::HttpClient client({.tls = {.ca_pem = cert_b->ca_pem,
                                  .client_cert_pem = cert_b->certificate_pem,
                                  .client_key_pem = *b.key.ToPkcs8Pem(),
                                  .server_name = "server-a"}});
  auto response = client.Send({.method = "GET", .url = url});
  ASSERT_TRUE(response.ok()) << response.error();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "client-b");  // the server saw the CDS-issued client certificate

#ifdef LUNAL_CDS_TEST_HAVE_MESH
  // The mesh library (the other side of the profile) accepts what the CDS issued, and checks the
  // expectation against it.
  auto trust = mesh::MeshTrust::FromPem(cert_a->ca_pem, clock_);
  ASSERT_TRUE(trust.ok()) << trust.error();
  auto leaf = crypto::Certificate::FromPem(cert_b->certificate_pem);
  const std::vector<Bytes> chain = {Bytes(leaf->Der().begin(), leaf->Der().end())};
  auto peer = mesh::VerifyMeshPeer(chain, *trust,
                                   {.tenant = "acme",
                                    .deployment = "api",
                                    .instance = "client-b",
                                    .build_hashes = {BuildHash('c')},
                                    .allow_simulated = true});
  ASSERT_TRUE(peer.ok()) << peer.error();
  EXPECT_EQ(peer->build_hash, BuildHash('c'));
  EXPECT_TRUE(peer->simulated);
  auto wrong = mesh::VerifyMeshPeer(
      chain, *trust, {.tenant = "acme", .build_hashes = {BuildHash('a')}, .allow_simulated = true});
  EXPECT_FALSE(wrong.ok());
#endif

  // A client without a certificate is refused in the handshake.
  net::HttpClient anonymous({.tls = {.ca_pem = cert_b->ca_pem, .server_name = "server-a"}});
  EXPECT_FALSE(anonymous.Send({.method = "GET", .url = url}).ok());
  server.Stop(std::chrono::milliseconds(100));
}

#ifdef LUNAL_CDS_TEST_HAVE_MESH
// The relying side (issue 7: "a peer with an expired mesh certificate, or one from another CA
// with the same names, is refused by the mesh library"), with certificates this CDS issued.
TEST_F(CdsTest, MeshLibraryRefusesExpiredAndOtherCaCertificates) {
  auto in = MakeInstance(BuildHash('a'));
  auto issued = cds_->IssueCertificate(Request(in, Nonce()));
  ASSERT_TRUE(issued.ok()) << issued.error();
  auto der = [](const std::string& pem) {
    auto cert = crypto::Certificate::FromPem(pem);
    return std::vector<Bytes>{Bytes(cert->Der().begin(), cert->Der().end())};
  };
  const mesh::PeerExpectation expect{.tenant = "acme",
                                     .deployment = "api",
                                     .instance = "i-1",
                                     .build_hashes = {BuildHash('a')},
                                     .allow_simulated = true};
  auto trust = mesh::MeshTrust::FromPem(issued->ca_pem, clock_);
  ASSERT_TRUE(trust.ok()) << trust.error();
  ASSERT_TRUE(mesh::VerifyMeshPeer(der(issued->certificate_pem), *trust, expect).ok());

  // Another CDS (its own CA, the same names) issues the same identity: not trusted.
  auto other = Cds::Open({.state_dir = dir_ / "other-cds",
                          .operator_key_pem = *(*operator_key_->PublicKey()).ToPem(),
                          .verifier = verifier_,
                          .clock = &clock_});
  ASSERT_TRUE(other.ok());
  ASSERT_TRUE((*other)->PutManifest(SignManifest(*operator_key_, 1, DefaultEntries())).ok());
  auto c = (*other)->NewChallenge();
  auto foreign = (*other)->IssueCertificate(Request(in, c->nonce));
  ASSERT_TRUE(foreign.ok()) << foreign.error();
  EXPECT_EQ((*other)->ca_certificate().SubjectName(), cds_->ca_certificate().SubjectName());
  EXPECT_EQ(testing::ReasonOf(mesh::VerifyMeshPeer(der(foreign->certificate_pem), *trust, expect)),
            "mesh.peer.untrusted_ca");

  // An hour and a minute later the certificate has expired.
  clock_.Advance(std::chrono::seconds(3661));
  EXPECT_EQ(testing::ReasonOf(mesh::VerifyMeshPeer(der(issued->certificate_pem), *trust, expect)),
            "mesh.peer.expired");
}
#endif

// ---- each refusal with its own reason ----

TEST_F(CdsTest, ReplayedNonceIsRefused) {
  auto in = MakeInstance(BuildHash('a'));
  CertificateRequest req = Request(in, Nonce());
  ASSERT_TRUE(cds_->IssueCertificate(req).ok());
  auto again = cds_->IssueCertificate(req);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().reason(), "cds.nonce.replayed");
}

TEST_F(CdsTest, ExpiredNonceIsRefused) {
  auto in = MakeInstance(BuildHash('a'));
  const std::string nonce = Nonce();
  clock_.Advance(std::chrono::seconds(121));  // nonce_ttl is 120 s
  auto r = cds_->IssueCertificate(Request(in, nonce));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().reason(), "cds.nonce.expired");
}

TEST_F(CdsTest, UnknownNonceIsRefused) {
  auto in = MakeInstance(BuildHash('a'));
  auto r = cds_->IssueCertificate(Request(in, "bm90LWlzc3VlZA"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().reason(), "cds.nonce.unknown");
}

TEST_F(CdsTest, CsrKeyNotBoundInReportDataIsRefused) {
  auto in = MakeInstance(BuildHash('a'));
  const std::string nonce = Nonce();
  CertificateRequest req = Request(in, nonce);
  // The evidence binds another key than the CSR's.
  auto other = crypto::PrivateKey::Generate(crypto::KeyType::kEcP256);
  req.evidence = Evidence(in, nonce, *(*other->PublicKey()).ToSpkiDer());
  auto r = cds_->IssueCertificate(req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().reason(), "cds.binding.mismatch");
  // The same with evidence bound to another nonce.
  const std::string fresh = Nonce();
  CertificateRequest req2 = Request(in, fresh);
  req2.evidence = Evidence(in, nonce);
  auto r2 = cds_->IssueCertificate(req2);
  ASSERT_FALSE(r2.ok());
  EXPECT_EQ(r2.error().reason(), "cds.binding.mismatch");
}

TEST_F(CdsTest, DebugTdIsRefused) {
  auto in = MakeInstance(BuildHash('a'), attest::sim::kTdAttributes | 1u);  // bit 0: DEBUG
  auto r = cds_->IssueCertificate(Request(in, Nonce()));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().reason(), "cds.policy.debug");
}

TEST_F(CdsTest, BuildHashNotOnAllowListIsRefused) {
  auto in = MakeInstance(BuildHash('e'));
  auto r = cds_->IssueCertificate(Request(in, Nonce()));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().reason(), "cds.allow_list.build_hash");
  // A build allowed for another tenant's deployment is not allowed here.
  auto globex = MakeInstance(BuildHash('b'));
  auto r2 = cds_->IssueCertificate(Request(globex, Nonce()));
  EXPECT_EQ(testing::ReasonOf(r2), "cds.allow_list.build_hash");
  auto r3 = cds_->IssueCertificate(Request(globex, Nonce(), "acme", "missing"));
  EXPECT_EQ(testing::ReasonOf(r3), "cds.allow_list.no_entry");
}

TEST_F(CdsTest, SimulatedQuoteRefusedWhenManifestForbidsSimulation) {
  auto in = MakeInstance(BuildHash('a'));
  auto r = cds_->IssueCertificate(Request(in, Nonce(), "acme", "nosim"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().reason(), "cds.policy.simulated");
}

TEST_F(CdsTest, TamperedEvidenceFailsWithTheEnginesReason) {
  auto in = MakeInstance(BuildHash('a'));
  CertificateRequest req = Request(in, Nonce());
  Json env = *ParseJson(AsStringView(req.evidence));
  Bytes quote = *Base64Decode(env["quote"].get<std::string>());
  quote[200] ^= 1;  // inside the signed TD quote body
  env["quote"] = Base64Encode(quote);
  req.evidence = ToBytes(env.dump());
  auto r = cds_->IssueCertificate(req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Code::kVerificationFailed) << r.error();
  EXPECT_FALSE(r.error().reason().starts_with("cds.")) << r.error();
}

TEST_F(CdsTest, MinimumTcbAboveThePlatformIsRefused) {
  Json entries = DefaultEntries();
  entries[0]["min_tcb"] = {{"tdx", {{"tee_tcb_svn", "06010200000000000000000000000000"}}}};
  ASSERT_TRUE(cds_->PutManifest(SignManifest(*operator_key_, 2, entries)).ok());
  auto in = MakeInstance(BuildHash('a'));
  auto r = cds_->IssueCertificate(Request(in, Nonce()));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().reason(), "cds.policy.tcb") << r.error();
}

// ---- manifests ----

TEST_F(CdsTest, ManifestSignedByWrongKeyIsRefused) {
  auto other = crypto::PrivateKey::Generate(crypto::KeyType::kEcP256);
  Status s = cds_->PutManifest(SignManifest(*other, 5, DefaultEntries()));
  EXPECT_EQ(s.reason(), "cds.manifest.bad_signature");
  EXPECT_EQ(cds_->ActiveAllowList()->version, 1);
}

TEST_F(CdsTest, ManifestWithLowerOrEqualVersionIsRefused) {
  ASSERT_TRUE(cds_->PutManifest(SignManifest(*operator_key_, 3, DefaultEntries())).ok());
  EXPECT_EQ(cds_->PutManifest(SignManifest(*operator_key_, 2, DefaultEntries())).reason(),
            "cds.manifest.rollback");
  EXPECT_EQ(cds_->PutManifest(SignManifest(*operator_key_, 3, DefaultEntries())).reason(),
            "cds.manifest.rollback");
  // Also after a restart (the version lives in the database).
  OpenCds();
  EXPECT_EQ(cds_->ActiveAllowList()->version, 3);
  EXPECT_EQ(cds_->PutManifest(SignManifest(*operator_key_, 2, DefaultEntries())).reason(),
            "cds.manifest.rollback");
}

TEST_F(CdsTest, ManifestDocumentShowsActiveAndPreviousCountersigned) {
  ASSERT_TRUE(cds_->PutManifest(SignManifest(*operator_key_, 2, DefaultEntries())).ok());
  auto doc = cds_->ManifestDocument();
  ASSERT_TRUE(doc.ok());
  EXPECT_EQ((*doc)["active"]["version"], 2);
  EXPECT_EQ((*doc)["previous"]["version"], 1);
  for (const char* which : {"active", "previous"}) {
    auto env = crypto::ParseDsse((*doc)[which]["envelope"].dump());
    ASSERT_TRUE(env.ok());
    ASSERT_EQ(env->signatures.size(), 2u);
    EXPECT_TRUE(crypto::VerifyDsse(*env, *operator_key_->PublicKey()).ok());
    EXPECT_TRUE(crypto::VerifyDsse(*env, *cds_->ca_certificate().PublicKey(),
                                   (*doc)["cds_key_id"].get<std::string>())
                    .ok());
  }
}

// ---- secrets ----

TEST_F(CdsTest, SecretReleasedOnlyToNamedBuildNeverToOtherTenantAndNeverStoredInClear) {
  const std::string plaintext = "postgres://app:correct-horse-battery-staple@db/prod";
  ASSERT_TRUE(
      cds_->PutSecret("acme", "db-password", AsBytes(plaintext), {.build_hashes = {BuildHash('a')}})
          .ok());

  auto release = [&](Instance& in, const std::string& tenant, const std::string& deployment,
                     const crypto::PrivateKey& eph) {
    const std::string nonce = Nonce();
    const Bytes raw = *(*eph.PublicKey()).RawPublic();
    auto rd = SecretReleaseReportData(*(*eph.PublicKey()).ToSpkiDer(), nonce, in.build_hash, tenant,
                                      "db-password");
    auto evidence = in.attester->Attest(*rd);
    return cds_->ReleaseSecret({.name = "db-password",
                                .evidence = ToBytes(EvidenceEnvelope(*evidence).dump()),
                                .nonce = nonce,
                                .tenant = tenant,
                                .deployment = deployment,
                                .x25519_public = raw});
  };

  // The named build receives it, sealed to its ephemeral key.
  auto good = MakeInstance(BuildHash('a'));
  auto eph = *crypto::PrivateKey::Generate(crypto::KeyType::kX25519);
  auto sealed = release(good, "acme", "api", eph);
  ASSERT_TRUE(sealed.ok()) << sealed.error();
  auto opened = OpenSealedSecret(eph, *sealed, "acme", "db-password");
  ASSERT_TRUE(opened.ok()) << opened.error();
  EXPECT_EQ(AsStringView(*opened), plaintext);
  // Only that key opens it.
  auto stranger = *crypto::PrivateKey::Generate(crypto::KeyType::kX25519);
  EXPECT_EQ(testing::ReasonOf(OpenSealedSecret(stranger, *sealed, "acme", "db-password")),
            "crypto.aead.auth_failed");

  // Another build of the same tenant, allowed to run, is denied the secret.
  auto other_build = MakeInstance(BuildHash('c'));
  auto denied = release(other_build, "acme", "api", eph);
  ASSERT_FALSE(denied.ok());
  EXPECT_EQ(denied.error().reason(), "cds.secret.denied");

  // Another tenant's instance gets nothing, and cannot tell the secret exists.
  auto globex = MakeInstance(BuildHash('b'));
  auto foreign = release(globex, "globex", "web", eph);
  ASSERT_FALSE(foreign.ok());
  EXPECT_EQ(foreign.error().reason(), "cds.secret.not_found");
  // Claiming to be acme does not help: its build is not on acme's allow-list.
  auto claimed = release(globex, "acme", "api", eph);
  ASSERT_FALSE(claimed.ok());
  EXPECT_EQ(claimed.error().reason(), "cds.allow_list.build_hash");

  // No plaintext anywhere in the database files (main file and write-ahead log).
  cds_.reset();
  for (const char* file : {"cds.db", "cds.db-wal"}) {
    const auto path = dir_ / "cds" / file;
    if (!std::filesystem::exists(path)) continue;
    const Bytes bytes = lunal::testing::ReadFileBytes(path);
    EXPECT_FALSE(Contains(bytes, plaintext)) << file;
    EXPECT_FALSE(Contains(bytes, "correct-horse")) << file;
    EXPECT_FALSE(Contains(bytes, "PRIVATE KEY")) << file;  // nor the CA key
  }
}

// ---- revocation: removing a build hash makes the next renewal fail ----

TEST_F(CdsTest, RemovingBuildHashFromManifestMakesRenewalFail) {
  auto in = MakeInstance(BuildHash('c'));
  ASSERT_TRUE(cds_->IssueCertificate(Request(in, Nonce())).ok());
  ASSERT_TRUE(cds_->IssueCertificate(Request(in, Nonce())).ok());  // renewal works
  Json entries = DefaultEntries();
  entries[0]["build_hashes"] = Json::array({BuildHash('a')});  // 'c' revoked
  ASSERT_TRUE(cds_->PutManifest(SignManifest(*operator_key_, 2, entries)).ok());
  auto renewal = cds_->IssueCertificate(Request(in, Nonce()));
  ASSERT_FALSE(renewal.ok());
  EXPECT_EQ(renewal.error().reason(), "cds.allow_list.build_hash");
}

// ---- beacon, registry, state ----

TEST_F(CdsTest, BeaconVerifiesAndBindsAndGoesStale) {
  auto beacon = cds_->NewBeacon();
  ASSERT_TRUE(beacon.ok());
  const auto& ca = cds_->ca_certificate();
  EXPECT_TRUE(VerifyBeacon(ca, *beacon, clock_.Now(), std::chrono::seconds(30)).ok());
  Beacon forged = *beacon;
  forged.time = FormatRfc3339(clock_.Now() + std::chrono::seconds(1));
  EXPECT_EQ(VerifyBeacon(ca, forged, clock_.Now(), std::chrono::seconds(30)).reason(),
            "cds.beacon.bad_signature");
  clock_.Advance(std::chrono::seconds(31));
  EXPECT_EQ(VerifyBeacon(ca, *beacon, clock_.Now(), std::chrono::seconds(30)).reason(),
            "cds.beacon.stale");
  // An instance binds it; a different key gives different REPORT_DATA.
  auto k1 = crypto::PrivateKey::Generate(crypto::KeyType::kEcP256);
  auto k2 = crypto::PrivateKey::Generate(crypto::KeyType::kEcP256);
  auto rd1 = BeaconReportData(*beacon, *(*k1->PublicKey()).ToSpkiDer());
  auto rd2 = BeaconReportData(*beacon, *(*k2->PublicKey()).ToSpkiDer());
  ASSERT_TRUE(rd1.ok() && rd2.ok());
  EXPECT_NE(*rd1, *rd2);
}

TEST_F(CdsTest, RegistryRecordsEveryIssuedIdentity) {
  auto in = MakeInstance(BuildHash('a'));
  auto issued = cds_->IssueCertificate(Request(in, Nonce(), "acme", "api", "i-7"));
  ASSERT_TRUE(issued.ok());
  auto registry = cds_->Registry();
  ASSERT_TRUE(registry.ok());
  const Json& ids = (*registry)["identities"];
  ASSERT_EQ(ids.size(), 1u);
  EXPECT_EQ(ids[0]["serial"], issued->serial_hex);
  EXPECT_EQ(ids[0]["tenant"], "acme");
  EXPECT_EQ(ids[0]["instance"], "i-7");
  EXPECT_EQ(ids[0]["build_hash"], BuildHash('a'));
  EXPECT_EQ(ids[0]["simulated"], true);
  EXPECT_EQ(ids[0]["tcb_status"], "UpToDate");
  EXPECT_EQ(ids[0]["expires_at"], FormatRfc3339(issued->not_after));
  EXPECT_EQ(ids[0]["evidence"]["debug"], false);
}

TEST_F(CdsTest, RestartKeepsCaAndWrongMasterKeyIsRefused) {
  const std::string before = cds_->ca_certificate().ToPem();
  OpenCds();
  EXPECT_EQ(cds_->ca_certificate().ToPem(), before);
  cds_.reset();
  lunal::testing::TempDir other;
  const std::string wrong(32, 'k');
  ASSERT_TRUE(WriteFileAtomically(other / "master.key", wrong, 0600).ok());
  auto reopened = Cds::Open({.state_dir = dir_ / "cds",
                             .master_key_file = other / "master.key",
                             .operator_key_pem = *(*operator_key_->PublicKey()).ToPem(),
                             .verifier = verifier_,
                             .clock = &clock_});
  ASSERT_FALSE(reopened.ok());
  EXPECT_EQ(reopened.error().reason(), "cds.master_key.mismatch");
}

// ---- a second replica receives the master key, sealed to its attested key ----

TEST_F(CdsTest, ReplicaReceivesMasterKeyOnlyWhenItsBuildIsAllowedAndServesTheSameCa) {
  Json entries = DefaultEntries();
  entries.push_back(Entry("lunal", "cds", {BuildHash('d')}));
  ASSERT_TRUE(cds_->PutManifest(SignManifest(*operator_key_, 2, entries)).ok());

  auto ask = [&](Instance& in, const crypto::PrivateKey& eph) {
    const std::string nonce = Nonce();
    auto rd = SecretReleaseReportData(*(*eph.PublicKey()).ToSpkiDer(), nonce, in.build_hash,
                                      kReplicaTenant, kMasterKeyName);
    return cds_->ReleaseMasterKey(
        {.evidence = ToBytes(EvidenceEnvelope(*in.attester->Attest(*rd)).dump()),
         .nonce = nonce,
         .x25519_public = *(*eph.PublicKey()).RawPublic()});
  };
  // A tenant's instance (allowed to run, but not as the CDS) gets nothing.
  auto tenant_instance = MakeInstance(BuildHash('a'));
  auto eph = *crypto::PrivateKey::Generate(crypto::KeyType::kX25519);
  EXPECT_EQ(testing::ReasonOf(ask(tenant_instance, eph)), "cds.allow_list.build_hash");

  auto replica = MakeInstance(BuildHash('d'));
  auto sealed = ask(replica, eph);
  ASSERT_TRUE(sealed.ok()) << sealed.error();
  auto master = OpenSealedSecret(eph, *sealed, kReplicaTenant, kMasterKeyName);
  ASSERT_TRUE(master.ok()) << master.error();
  ASSERT_EQ(master->size(), 32u);

  // The replica opens a copy of the database with it: the same CA, able to issue.
  const std::string ca = cds_->ca_certificate().ToPem();
  cds_.reset();  // closes the database (checkpoints the WAL into cds.db)
  std::filesystem::create_directories(dir_ / "replica");
  std::filesystem::copy_file(dir_ / "cds" / "cds.db", dir_ / "replica" / "cds.db");
  auto second = Cds::Open({.state_dir = dir_ / "replica",
                           .master_key = *master,
                           .operator_key_pem = *(*operator_key_->PublicKey()).ToPem(),
                           .verifier = verifier_,
                           .clock = &clock_});
  ASSERT_TRUE(second.ok()) << second.error();
  EXPECT_EQ((*second)->ca_certificate().ToPem(), ca);
  auto in = MakeInstance(BuildHash('a'));
  auto challenge = (*second)->NewChallenge();
  auto issued = (*second)->IssueCertificate(Request(in, challenge->nonce));
  ASSERT_TRUE(issued.ok()) << issued.error();
  EXPECT_TRUE(crypto::Certificate::FromPem(issued->certificate_pem)
                  ->VerifySignedBy(*crypto::Certificate::FromPem(ca))
                  .ok());
  // Without the key the copy is useless.
  std::filesystem::create_directories(dir_ / "thief");
  std::filesystem::copy_file(dir_ / "cds" / "cds.db", dir_ / "thief" / "cds.db");
  auto stolen = Cds::Open({.state_dir = dir_ / "thief",
                           .operator_key_pem = *(*operator_key_->PublicKey()).ToPem(),
                           .verifier = verifier_,
                           .clock = &clock_});
  EXPECT_EQ(testing::ReasonOf(stolen), "cds.master_key.mismatch");
}

}  // namespace
}  // namespace lunal::cds
