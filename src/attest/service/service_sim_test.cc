// sim-tdx through the service (issue 5, "Done when"): attest → verify with the simulation root
// trusted → verified, simulated: true, the event log replayed; the same evidence with the root
// not trusted → failed; any byte changed → failed; and the result token, fetched with the JWKS
// over HTTP, validated by PyJWT (Debian's python3-jwt), an independent JWT implementation, with
// tampered tokens refused.
#include <gtest/gtest.h>

#include "lunal/attest/token/token.h"
#include "lunal/common/encoding.h"
#include "lunal/testing/testing.h"
#include "service_testing.h"

namespace lunal::attest::service {
namespace {

using testing::Call;
using testing::Post;
using testing::Reply;

constexpr std::string_view kIssuer = "https://attest.sim.test";

// The first Python that imports PyJWT (Debian's own first: a venv python3 in PATH may lack it).
std::optional<std::string> PythonWithPyJwt() {
  for (const char* python : {"/usr/bin/python3", "python3"}) {
    if (std::string_view(python).starts_with("/") && !std::filesystem::exists(python)) continue;
    if (lunal::testing::RunProcess({python, "-c", "import jwt, cryptography"}).exit_code == 0) {
      return std::string(python);
    }
  }
  return std::nullopt;
}

class ServiceSimTest : public ::testing::Test {
 protected:
  // A service with a sim-tdx attester in state_dir_, trusting its root or not. The clock is the
  // real one: PyJWT checks exp/iat against the real time.
  testing::Running Serve(bool trust_root) {
    ServiceConfig config;
    config.attester = {.kind = AttesterKind::kSimTdx, .state_dir = state_dir_.path()};
    if (trust_root) config.trust_simulation_root = state_dir_.path();
    config.token = {.issuer = std::string(kIssuer), .key_dir = keys_ / "keys"};
    auto running = testing::Start(config);
    EXPECT_TRUE(running.ok()) << running.error();
    return running.ok() ? std::move(*running) : testing::Running{};
  }

  Json Attest(const testing::Running& s, const std::string& report_data_hex) {
    Reply r = Post(s.url + "/v1/attestation/attest", {{"report_data", report_data_hex}});
    EXPECT_EQ(r.status, 200) << r.text;
    return r.json;
  }

  lunal::testing::TempDir state_dir_;
  lunal::testing::TempDir keys_;
  const std::string report_data_ = HexEncode(Bytes(64, 0x42));
};

TEST_F(ServiceSimTest, AttestThenVerifyPassesOnlyWithTheRootTrusted) {
  testing::Running trusting = Serve(true);
  ASSERT_NE(trusting.service, nullptr);
  const Json envelope = Attest(trusting, report_data_);
  EXPECT_EQ(envelope["platform"], "tdx");
  EXPECT_EQ(envelope["simulated"], true);
  ASSERT_TRUE(envelope["quote"].is_string());
  ASSERT_TRUE(envelope["event_log"].is_string()) << "sim-tdx returns its event log";

  const std::string verify = trusting.url + "/v1/attestation/verify";
  Reply ok = Post(verify, {{"evidence", envelope}, {"expected_report_data", report_data_}});
  ASSERT_EQ(ok.status, 200) << ok.text;
  EXPECT_EQ(ok.json["status"], "verified") << ok.json.dump(1);
  const Json& a = ok.json["attestation"];
  EXPECT_EQ(a["tee"]["simulated"], true);
  EXPECT_EQ(a["event_log"]["replayed"], true) << a.dump(1);
  EXPECT_NE(a["platform_verification"]["certificate_chain"].get<std::string>().find(
                "Lunal Simulation Root CA"),
            std::string::npos)
      << a.dump(1);
  // A policy that refuses simulated evidence rejects it, naming the rule.
  Reply strict = Post(verify, {{"evidence", envelope}, {"policy", {{"allow_simulated", false}}}});
  EXPECT_EQ(strict.json["status"], "rejected");
  EXPECT_EQ(strict.json["attestation"]["policy"]["violations"][0]["reason"],
            "policy.simulated_forbidden");
  // The wrong expected REPORT_DATA fails the binding.
  Reply unbound =
      Post(verify, {{"evidence", envelope}, {"expected_report_data", HexEncode(Bytes(64, 0x43))}});
  EXPECT_EQ(unbound.json["status"], "failed") << unbound.text;
  EXPECT_EQ(unbound.json["error"]["reason"], "tdx.report_data.mismatch");

  // The same root, not trusted: the same evidence fails.
  testing::Running untrusting = Serve(false);
  ASSERT_NE(untrusting.service, nullptr);
  Reply refused = Post(untrusting.url + "/v1/attestation/verify", {{"evidence", envelope}});
  ASSERT_EQ(refused.status, 200) << refused.text;
  EXPECT_EQ(refused.json["status"], "failed") << refused.json.dump(1);
  EXPECT_EQ(refused.json["error"]["reason"], "tdx.pck_chain.untrusted_root");
  // …and its own sim evidence too (the attester works, the trust does not follow from it).
  Reply own = Post(untrusting.url + "/v1/attestation/verify",
                   {{"evidence", Attest(untrusting, report_data_)}});
  EXPECT_EQ(own.json["status"], "failed");
  EXPECT_EQ(own.json["error"]["reason"], refused.json["error"]["reason"]);
}

TEST_F(ServiceSimTest, AnyChangedByteOfTheQuoteFails) {
  testing::Running s = Serve(true);
  ASSERT_NE(s.service, nullptr);
  const Json envelope = Attest(s, report_data_);
  const Bytes quote = Base64Decode(envelope["quote"].get<std::string>()).value();
  // One byte in each region: header, TD report body (MRTD, RTMR3, REPORTDATA), the signature,
  // the QE report, the PCK chain; spread over the quote, stepping by a prime.
  std::size_t checked = 0;
  for (std::size_t offset = 0; offset < quote.size(); offset += 97) {
    Bytes edited = quote;
    edited[offset] ^= 0x01;
    Json bad = envelope;
    bad["quote"] = Base64Encode(edited);
    Reply r = Post(s.url + "/v1/attestation/verify", {{"evidence", bad}});
    ASSERT_TRUE(r.status == 200 || r.status == 400) << offset << ": " << r.text;
    if (r.status == 200) {
      EXPECT_EQ(r.json["status"], "failed") << "byte " << offset << " changed: " << r.text;
    }
    ++checked;
  }
  EXPECT_GT(checked, 40u);
}

TEST_F(ServiceSimTest, TheTokenValidatesInPyJwtWithTheServedJwksAndTamperingFails) {
  const std::optional<std::string> python = PythonWithPyJwt();
  if (!python) GTEST_SKIP() << "PyJWT is not importable (scripts/install-deps.sh: python3-jwt)";
  testing::Running s = Serve(true);
  ASSERT_NE(s.service, nullptr);
  const Json envelope = Attest(s, report_data_);
  Reply ok =
      Post(s.url + "/v1/attestation/verify", {{"evidence", envelope}, {"issue_token", true}});
  ASSERT_EQ(ok.json["status"], "verified") << ok.text;
  const std::string jwt = ok.json["token"].get<std::string>();

  // The JWKS as a relying party gets it: over HTTP, without a token.
  Reply jwks = Call("GET", s.url + "/.well-known/jwks.json", "", std::nullopt);
  ASSERT_EQ(jwks.status, 200);
  lunal::testing::TempDir dir;
  lunal::testing::WriteFile(dir / "jwks.json", jwks.text);
  auto pyjwt = [&](const std::string& token) {
    lunal::testing::WriteFile(dir / "token", token);
    return lunal::testing::RunProcess(
        {*python,
         (lunal::testing::SourceDir() / "src/attest/token/testdata/pyjwt_validate.py").string(),
         (dir / "jwks.json").string(), (dir / "token").string(), std::string(kIssuer)});
  };
  auto good = pyjwt(jwt);
  ASSERT_EQ(good.exit_code, 0) << good.err;
  const Json claims = Json::parse(good.out);
  EXPECT_EQ(claims["iss"], kIssuer);
  EXPECT_FALSE(claims.contains("nonce")) << "no nonce in the request (TDX binds it in REPORT_DATA)";
  EXPECT_EQ(claims["lunal"]["tee"], "tdx");
  EXPECT_EQ(claims["lunal"]["simulated"], true);
  EXPECT_EQ(claims["lunal"]["measurements"]["rtmr3"],
            ok.json["attestation"]["measurements"]["rtmr3"]);

  // Tampering: a payload byte (the JSON stays valid), a signature byte, alg "none".
  const std::size_t dot1 = jwt.find('.'), dot2 = jwt.rfind('.');
  std::string payload = ToString(Base64UrlDecode(jwt.substr(dot1 + 1, dot2 - dot1 - 1)).value());
  const std::size_t at = payload.find("\"tdx\"");
  ASSERT_NE(at, std::string::npos);
  payload[at + 1] = 's';  // "sdx"
  const std::string edited_payload =
      jwt.substr(0, dot1) + "." + Base64UrlEncode(AsBytes(payload)) + jwt.substr(dot2);
  Bytes signature = Base64UrlDecode(jwt.substr(dot2 + 1)).value();
  signature[5] ^= 0x01;
  const std::string edited_signature = jwt.substr(0, dot2 + 1) + Base64UrlEncode(signature);
  Json none = Json::parse(ToString(Base64UrlDecode(jwt.substr(0, dot1)).value()));
  none["alg"] = "none";
  const std::string alg_none =
      Base64UrlEncode(AsBytes(none.dump())) + jwt.substr(dot1, dot2 - dot1) + ".";
  for (const auto& [token, error] :
       std::vector<std::pair<std::string, std::string>>{{edited_payload, "InvalidSignatureError"},
                                                        {edited_signature, "InvalidSignatureError"},
                                                        {alg_none, "InvalidAlgorithmError"}}) {
    auto r = pyjwt(token);
    EXPECT_EQ(r.exit_code, 1) << "PyJWT accepted a tampered token";
    EXPECT_NE(r.err.find(error), std::string::npos) << r.err;
  }
  // Our own validator agrees.
  EXPECT_TRUE(token::Validate(jwt, jwks.json, SystemClock::Instance().Now(), kIssuer).ok());
  EXPECT_FALSE(
      token::Validate(edited_payload, jwks.json, SystemClock::Instance().Now(), kIssuer).ok());
}

}  // namespace
}  // namespace lunal::attest::service
