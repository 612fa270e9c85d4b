// VerifyMeshPeer without TLS: each step of the pipeline refuses with its own reason; and the
// openssl CLI agrees that profile certificates chain to the CA and suit TLS clients and servers.
#include "lunal/mesh/peer.h"

#include <gtest/gtest.h>

#include "lunal/testing/testing.h"
#include "test_ca.h"

namespace lunal::mesh {
namespace {

using testing::Ca;
using testing::Profile;

class VerifyMeshPeerTest : public ::testing::Test {
 protected:
  VerifyMeshPeerTest()
      : ca_(testing::MakeCa()),
        clock_(FromSeconds(testing::TestNow())),
        trust_(*MeshTrust::FromPem(ca_.pem, clock_)) {
    expected_.tenant = "acme";
    expected_.deployment = "chat";
    expected_.build_hashes = {std::string(testing::kBuildA)};
  }

  Result<MeshIdentity> Verify(const crypto::Certificate& leaf,
                              const std::vector<crypto::Certificate>& more = {}) {
    std::vector<Bytes> chain{Bytes(leaf.Der().begin(), leaf.Der().end())};
    for (const crypto::Certificate& c : more) chain.emplace_back(c.Der().begin(), c.Der().end());
    return VerifyMeshPeer(chain, trust_, expected_);
  }

  std::string ReasonFor(const Profile& profile) {
    Result<MeshIdentity> id = Verify(testing::Issue(ca_, profile).cert);
    return id ? "accepted" : id.error().reason();
  }

  Ca ca_;
  FakeClock clock_;
  MeshTrust trust_;
  PeerExpectation expected_;
};

TEST_F(VerifyMeshPeerTest, AcceptsAGoodPeer) {
  Result<MeshIdentity> id = Verify(testing::Issue(ca_).cert);
  ASSERT_TRUE(id) << id.error();
  EXPECT_EQ(id->Uri(), "lunal://acme/chat/i-1");
}

TEST_F(VerifyMeshPeerTest, NoCertificate) {
  Result<MeshIdentity> id = VerifyMeshPeer({}, trust_, expected_);
  ASSERT_FALSE(id);
  EXPECT_EQ(id.error().reason(), "mesh.peer.no_certificate");
  EXPECT_EQ(id.error().code(), Code::kUnauthenticated);
}

TEST_F(VerifyMeshPeerTest, ExpiredAndNotYetValidByTheInjectedClock) {
  testing::Issued issued = testing::Issue(ca_);
  clock_.Set(FromSeconds(testing::TestNow() + std::chrono::hours(1) + std::chrono::seconds(1)));
  Result<MeshIdentity> id = Verify(issued.cert);
  ASSERT_FALSE(id);
  EXPECT_EQ(id.error().reason(), "mesh.peer.expired");
  EXPECT_EQ(id.error().code(), Code::kVerificationFailed);
  clock_.Set(FromSeconds(testing::TestNow() - std::chrono::seconds(61)));
  EXPECT_EQ(Verify(issued.cert).error().reason(), "mesh.peer.not_yet_valid");
  clock_.Set(FromSeconds(testing::TestNow() + std::chrono::minutes(59)));
  EXPECT_TRUE(Verify(issued.cert));
}

TEST_F(VerifyMeshPeerTest, AnotherCaWithTheSameNamesIsUntrusted) {
  Ca impostor = testing::MakeCa();  // same subject "CN=Lunal CDS CA, O=Lunal", another key
  ASSERT_EQ(impostor.cert.SubjectName(), ca_.cert.SubjectName());
  testing::Issued issued = testing::Issue(impostor);  // same SAN, CN and extensions
  Result<MeshIdentity> id = Verify(issued.cert);
  ASSERT_FALSE(id);
  EXPECT_EQ(id.error().reason(), "mesh.peer.untrusted_ca");
  // Sending the impostor CA along does not help: trust is by pin, not by name.
  EXPECT_EQ(Verify(issued.cert, {impostor.cert}).error().reason(), "mesh.peer.untrusted_ca");
}

TEST_F(VerifyMeshPeerTest, IntermediateMustBeSent) {
  Ca intermediate = testing::MakeIntermediate(ca_, "Lunal CDS Issuing CA");
  testing::Issued issued = testing::Issue(intermediate);
  EXPECT_EQ(Verify(issued.cert).error().reason(), "mesh.peer.untrusted_ca");
  Result<MeshIdentity> id = Verify(issued.cert, {intermediate.cert});
  EXPECT_TRUE(id) << id.error();
}

TEST_F(VerifyMeshPeerTest, IdentityChecks) {
  EXPECT_EQ(ReasonFor({.tenant = "globex"}), "mesh.peer.wrong_identity");
  EXPECT_EQ(ReasonFor({.deployment = "billing"}), "mesh.peer.wrong_identity");
  expected_.deployment.reset();
  EXPECT_EQ(ReasonFor({.deployment = "billing"}), "accepted");
  expected_.instance = "i-7";
  EXPECT_EQ(ReasonFor({}), "mesh.peer.wrong_identity");
  EXPECT_EQ(ReasonFor({.instance = "i-7"}), "accepted");
}

TEST_F(VerifyMeshPeerTest, BuildHashTeeAndSimulation) {
  Profile build_b;
  build_b.build_hash = std::string(testing::kBuildB);
  EXPECT_EQ(ReasonFor(build_b), "mesh.peer.build_hash_not_allowed");
  expected_.build_hashes.push_back(std::string(testing::kBuildB));
  EXPECT_EQ(ReasonFor(build_b), "accepted");
  expected_.build_hashes = {std::string(testing::kBuildB)};
  EXPECT_EQ(ReasonFor({}), "mesh.peer.build_hash_not_allowed");
  expected_.any_build = true;
  EXPECT_EQ(ReasonFor({}), "accepted");

  Profile simulated;
  simulated.simulated = true;
  EXPECT_EQ(ReasonFor(simulated), "mesh.peer.simulated_not_allowed");
  expected_.allow_simulated = true;
  EXPECT_EQ(ReasonFor(simulated), "accepted");

  Profile snp;
  snp.tee = "sev-snp";
  expected_.tee_types = {"tdx"};
  EXPECT_EQ(ReasonFor(snp), "mesh.peer.tee_not_allowed");
  expected_.tee_types = {"tdx", "sev-snp"};
  EXPECT_EQ(ReasonFor(snp), "accepted");
}

TEST_F(VerifyMeshPeerTest, BadProfile) {
  Result<crypto::PrivateKey> key = crypto::PrivateKey::Generate(crypto::KeyType::kEcP256);
  ASSERT_TRUE(key);
  crypto::CertificateBuilder builder = testing::ProfileBuilder({}, *key->PublicKey());
  builder.AddSanDns("localhost");
  Result<MeshIdentity> id = Verify(testing::IssueWith(ca_, builder, *key).cert);
  ASSERT_FALSE(id);
  EXPECT_EQ(id.error().reason(), "mesh.peer.bad_profile");
  EXPECT_NE(id.error().message().find("mesh.cert.san"), std::string::npos);
  std::vector<Bytes> garbage{ToBytes("garbage")};
  EXPECT_EQ(VerifyMeshPeer(garbage, trust_, expected_).error().reason(), "mesh.peer.bad_profile");
}

TEST_F(VerifyMeshPeerTest, ExpectationMustBeExplicit) {
  PeerExpectation empty_builds{.tenant = "acme"};
  EXPECT_EQ(empty_builds.Validate().reason(), "mesh.expectation.invalid");
  std::vector<Bytes> chain{Bytes(ca_.cert.Der().begin(), ca_.cert.Der().end())};
  EXPECT_EQ(VerifyMeshPeer(chain, trust_, empty_builds).error().reason(),
            "mesh.expectation.invalid");
  EXPECT_EQ((PeerExpectation{.tenant = "", .any_build = true}).Validate().reason(),
            "mesh.expectation.invalid");
  EXPECT_EQ((PeerExpectation{.tenant = "acme", .build_hashes = {"sha256:AB"}}).Validate().reason(),
            "mesh.expectation.invalid");
  EXPECT_TRUE((PeerExpectation{.tenant = "acme", .any_build = true}).Validate().ok());
}

TEST(MeshTrust, RefusesLeavesAndGarbage) {
  FakeClock clock(FromSeconds(testing::TestNow()));
  Ca ca = testing::MakeCa();
  EXPECT_EQ(MeshTrust::FromPem("", clock).error().reason(), "mesh.trust.invalid");
  EXPECT_EQ(MeshTrust::FromPem(testing::Issue(ca).cert_pem, clock).error().reason(),
            "mesh.trust.invalid");
  Ca other = testing::MakeCa("Second CA");
  Result<MeshTrust> two = MeshTrust::FromPem(ca.pem + other.pem, clock);
  ASSERT_TRUE(two);
  EXPECT_EQ(two->anchors().size(), 2u);
}

// Interop: OpenSSL's own verifier accepts the chain, for both TLS purposes (RFC 5280 path
// validation plus the EKU/keyUsage checks of `-purpose`), at the certificate's time.
TEST(MeshInterop, OpensslVerifyAcceptsProfileCertificates) {
  if (!lunal::testing::HaveProgram("openssl")) GTEST_SKIP() << "no openssl";
  lunal::testing::TempDir dir;
  Ca ca = testing::MakeCa();
  testing::Issued issued = testing::Issue(ca);
  lunal::testing::WriteFile(dir / "ca.pem", ca.pem);
  lunal::testing::WriteFile(dir / "leaf.pem", issued.cert_pem);
  std::string at = std::to_string(testing::TestNow().time_since_epoch().count());
  for (std::string purpose : {"sslclient", "sslserver"}) {
    lunal::testing::ProcessResult r = lunal::testing::RunProcess(
        {"openssl", "verify", "-x509_strict", "-attime", at, "-purpose", purpose, "-CAfile",
         (dir / "ca.pem").string(), (dir / "leaf.pem").string()});
    EXPECT_EQ(r.exit_code, 0) << purpose << ": " << r.out << r.err;
  }
  // And refuses the impostor CA's certificate.
  lunal::testing::WriteFile(dir / "impostor.pem", testing::Issue(testing::MakeCa()).cert_pem);
  lunal::testing::ProcessResult r =
      lunal::testing::RunProcess({"openssl", "verify", "-attime", at, "-CAfile",
                                  (dir / "ca.pem").string(), (dir / "impostor.pem").string()});
  EXPECT_NE(r.exit_code, 0);
  // The text form shows the URI SAN and the custom extensions as OpenSSL reads them.
  r = lunal::testing::RunProcess(
      {"openssl", "x509", "-noout", "-ext", "subjectAltName", "-in", (dir / "leaf.pem").string()});
  EXPECT_NE(r.out.find("URI:lunal://acme/chat/i-1"), std::string::npos) << r.out << r.err;
}

}  // namespace
}  // namespace lunal::mesh
