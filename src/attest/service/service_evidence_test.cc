// "The service verifies every shared evidence file over HTTP with the same verdicts as the CLI"
// (issue 5): every row of ../shared/evidence/README.md's "Expected results" table (TDX with the
// shared collateral folder, SNP with the certificate pairings of src/attest/snp/verify_test.cc,
// Azure with the nonces of src/attest/azure/test_evidence.cc) is POSTed to a running service and
// given to the built `lunal attestation verify --json` with the same as-of time and options.
// Both must give the same record (id and timestamp aside); and the table's verdict must hold.
#include <gtest/gtest.h>

#include "lunal/common/encoding.h"
#include "lunal/net/client.h"
#include "lunal/testing/testing.h"
#include "service_testing.h"

namespace lunal::attest::service {
namespace {

using testing::Base64Of;
using testing::Evidence;
using testing::Post;
using testing::Reply;

const std::string kRs = "lunal-attestation-rs/crates/attestation/test_data/";
const std::string kTr = "trustee/deps/verifier/test_data/";
const std::string kGo = "go-tdx-guest/testing/testdata/";
// The nonces the Azure captures were asked for ("challenge", "attestation-test-fixture", ...).
const std::string kChallenge = "6368616c6c656e6765";
const std::string kFixture = "6174746573746174696f6e2d746573742d66697874757265";

struct Row {
  std::string file;
  std::string as_of;
  bool tdx = false;       // TDX or Azure TDX: the CLI gets --collateral
  std::string cert;       // SNP: the VCEK/VLEK file, when the evidence does not carry it
  std::string nonce;      // Azure vTPM evidence
  std::string event_log;  // TDX: a CCEL to replay
  std::string failure;    // the table's reject reason; "" = the table says "accept"
};
void PrintTo(const Row& row, std::ostream* os) {
  *os << row.file << (row.cert.empty() ? "" : " + " + row.cert)
      << (row.event_log.empty() ? "" : " + " + row.event_log);
}

Row Tdx(std::string file, std::string as_of, std::string failure = "", std::string nonce = "",
        std::string event_log = "") {
  return {.file = std::move(file),
          .as_of = std::move(as_of),
          .tdx = true,
          .cert = "",
          .nonce = std::move(nonce),
          .event_log = std::move(event_log),
          .failure = std::move(failure)};
}
Row Snp(std::string file, std::string as_of, std::string cert = "", std::string failure = "",
        std::string nonce = "") {
  return {.file = std::move(file),
          .as_of = std::move(as_of),
          .tdx = false,
          .cert = std::move(cert),
          .nonce = std::move(nonce),
          .event_log = "",
          .failure = std::move(failure)};
}

std::vector<Row> Rows() {
  const std::string tdx_old = "2025-10-01T00:34:24Z";
  const std::string tdx4 = "2026-03-31T22:25:04Z";
  const std::string tdx5 = "2026-03-31T22:20:07Z";
  const std::string expired = "tdx.collateral.expired";
  const std::string not_supported = "tdx.tcb.not_supported";
  const std::string chain_bad = "snp.chain.signature_invalid";
  return {
      // TDX rows (src/attest/tdx/verify_test.cc; the "—" rows at the table's other as-of).
      Tdx(kRs + "tdx_quote_4.dat", tdx4),
      Tdx(kRs + "tdx_quote_5.dat", tdx5, not_supported),
      Tdx(kRs + "tdx_quote_live.dat", tdx4, expired),
      Tdx(kRs + "tdx_quote_live.dat", tdx4, expired, "", kRs + "tdx_ccel_live2.dat"),
      Tdx(kRs + "az_tdx/td-quote.bin", tdx_old),
      Tdx(kRs + "az_tdx/evidence-v1.json", tdx_old, "", kChallenge),
      Tdx(kRs + "az_tdx/live-evidence.json", tdx5, "", kFixture),
      Tdx(kTr + "tdx_quote_4.dat", tdx4),
      Tdx(kTr + "tdx_quote_5.dat", tdx5, not_supported),
      Tdx(kTr + "tdx_quote_6.dat", tdx4, expired),
      Tdx(kTr + "az-tdx-vtpm/evidence-v0.json", tdx_old, "", kChallenge),
      Tdx(kTr + "az-tdx-vtpm/evidence-v1.json", tdx_old, "", kChallenge),
      Tdx(kGo + "quote_v5_sample.dat", tdx5),
      Tdx(kGo + "tdx_prod_quote_SPR_E4.dat", tdx4, not_supported),
      Tdx(kGo + "ccel/cos-113-tdx-quote.dat", tdx_old),
      Tdx(kGo + "ccel/cos-113-tdx-quote.dat", tdx_old, "", "", kGo + "ccel/ccel_data.dat"),
      // SNP rows (src/attest/snp/verify_test.cc; Azure nonces from azure/test_evidence.cc).
      Snp(kRs + "snp/live-report-v5-genoa.bin", "2029-08-19T11:01:36Z",
          kRs + "snp/live-vcek-genoa.der"),
      Snp(kRs + "snp/live-evidence-genoa.json", "2029-08-21T11:50:30Z"),
      Snp(kRs + "snp/test-report.bin", "2026-07-26T05:58:26Z", kRs + "snp/test-vcek.der"),
      Snp(kRs + "snp/test-vlek-report.bin", "2025-06-11T10:14:21Z", kRs + "snp/test-vlek.der"),
      Snp(kRs + "az_snp/hcl-report.bin", "2026-11-01T09:22:19Z", kRs + "az_snp/vcek.pem"),
      Snp(kRs + "az_snp/hcl-report.bin", "2028-07-24T19:38:01Z", kRs + "az_snp/imds-vcek.der",
          "snp.report.signature_invalid"),
      Snp(kRs + "snp/test-report.bin", "2026-08-05T10:41:55Z",
          kRs + "snp/test-vcek-invalid-legacy.der", chain_bad),
      Snp(kRs + "snp/test-report.bin", "2027-02-16T02:27:09Z",
          kRs + "snp/test-vcek-invalid-new.der", chain_bad),
      Snp(kTr + "az-snp-vtpm/hcl-report.bin", "2026-11-01T09:22:19Z", kTr + "az-snp-vtpm/vcek.pem"),
      Snp(kRs + "az_snp/evidence-v1.json", "2026-11-01T09:22:19Z", "", "", kChallenge),
      Snp(kRs + "az_snp/live-evidence.json", "2028-07-24T19:38:01Z", "", "", kFixture),
      Snp(kTr + "az-snp-vtpm/evidence-genoa.json", "2028-07-25T02:21:48Z", "", "",
          "0218488bae25d2509232bf676f1a66a30d7372add909109b36016ef136f2938ca05475f8b46094de6b64"
          "270ea35d950f"),
      Snp(kTr + "az-snp-vtpm/evidence-v0.json", "2028-07-29T16:26:55Z", "", "", kChallenge),
      Snp(kTr + "az-snp-vtpm/evidence-v1.json", "2028-07-29T16:26:55Z", "", "", kChallenge),
      Snp(kTr + "az-snp-vtpm/evidence-v2.json", "2028-07-29T16:33:43Z", "", "",
          "982f5c6e45df0ed3f10b6f60b02f0c8390e281300f3805e2279c16168cd6ae9aa398f647caa2338748cd"
          "0fd9f5f819ef"),
      Snp("trustee/attestation-service/tests/e2e/evidence.json", "2028-11-26T05:57:03Z"),
      Snp("go-sev-guest/verify/testdata/attestation.bin", "2026-03-25T12:55:28Z",
          "go-sev-guest/verify/testdata/vcek.testcer"),
      Snp("virtee-sev/tests/certs_data/report_milan.hex", "2026-10-03T07:23:43Z",
          "virtee-sev/tests/certs_data/vcek_milan.der"),
  };
}

const std::filesystem::path& IntelCollateral() {
  static const std::filesystem::path dir = Evidence("collateral/intel");
  return dir;
}

// One service for the whole file: the shared collateral folder, "at" allowed (the table's
// times are in the past and future of today).
const std::string& ServiceUrl() {
  static testing::Running* running = [] {
    ServiceConfig config;
    config.collateral.folders = {IntelCollateral()};
    config.allow_request_time = true;
    auto started = testing::Start(config);
    EXPECT_TRUE(started.ok()) << started.error();
    return started.ok() ? new testing::Running(std::move(*started)) : nullptr;
  }();
  static const std::string url = running ? running->url + "/v1/attestation/verify" : "";
  return url;
}

Json RequestFor(const Row& row) {
  Json body = {{"evidence", Base64Of(Evidence(row.file))}, {"at", row.as_of}};
  if (!row.cert.empty()) body["certs"] = Json::array({Base64Of(Evidence(row.cert))});
  if (!row.nonce.empty()) body["nonce"] = row.nonce;
  if (!row.event_log.empty()) body["event_log"] = Base64Of(Evidence(row.event_log));
  return body;
}

// `lunal attestation verify --json` on the same input. Returns its JSON output.
Json RunCli(const Row& row, int* exit_code) {
  std::vector<std::string> args = {(lunal::testing::BinaryDir() / "src/cli/lunal").string(),
                                   "attestation",
                                   "verify",
                                   "--json",
                                   "--evidence",
                                   Evidence(row.file).string(),
                                   "--at",
                                   row.as_of};
  if (row.tdx) args.insert(args.end(), {"--collateral", IntelCollateral().string()});
  if (!row.cert.empty()) args.insert(args.end(), {"--cert", Evidence(row.cert).string()});
  if (!row.nonce.empty()) args.insert(args.end(), {"--nonce", row.nonce});
  if (!row.event_log.empty()) {
    args.insert(args.end(), {"--event-log", Evidence(row.event_log).string()});
  }
  auto r = lunal::testing::RunProcess(args);
  *exit_code = r.exit_code;
  auto json = ParseJson(r.out);
  EXPECT_TRUE(json.ok()) << "lunal printed no JSON (exit " << r.exit_code << "): " << r.out
                         << r.err;
  return json.ok() ? *json : Json();
}

// The record without what differs between two runs of the same verification.
Json Comparable(Json record) {
  if (record.contains("attestation") && record["attestation"].is_object()) {
    record["attestation"].erase("id");
    record["attestation"].erase("timestamp");
  }
  return record;
}

class ServiceEvidenceTest : public ::testing::TestWithParam<Row> {};

TEST_P(ServiceEvidenceTest, GivesTheCliRecordAndTheTablesVerdict) {
  const Row& row = GetParam();
  ASSERT_FALSE(ServiceUrl().empty());
  Reply served = Post(ServiceUrl(), RequestFor(row));
  ASSERT_EQ(served.status, 200) << served.text;
  int exit_code = -1;
  const Json cli = RunCli(row, &exit_code);

  const std::string status = served.json["status"];
  EXPECT_EQ(exit_code, status == "verified" ? 0 : 1) << cli.dump(1);
  EXPECT_EQ(Comparable(served.json), Comparable(cli)) << "service:\n"
                                                      << served.json.dump(1) << "\nCLI:\n"
                                                      << cli.dump(1);
  if (row.failure.empty()) {
    // "accept": every check passed; the default policy may still reject (debug, OutOfDate).
    EXPECT_NE(status, "failed") << served.json.dump(1);
  } else {
    EXPECT_EQ(status, "failed");
    EXPECT_EQ(served.json["error"]["reason"], row.failure) << served.json.dump(1);
  }
}

INSTANTIATE_TEST_SUITE_P(Table, ServiceEvidenceTest, ::testing::ValuesIn(Rows()));

TEST(ServiceEvidenceRequestTest, AnEnvelopeObjectAndTheRawFileGiveTheSameRecord) {
  const Row row = Rows()[0];
  ASSERT_FALSE(ServiceUrl().empty());
  const Json envelope = {{"platform", "tdx"}, {"quote", Base64Of(Evidence(row.file))}};
  Reply as_envelope = Post(ServiceUrl(), {{"evidence", envelope}, {"at", row.as_of}});
  Reply as_file = Post(ServiceUrl(), RequestFor(row));
  ASSERT_EQ(as_envelope.status, 200) << as_envelope.text;
  Json a = Comparable(as_envelope.json), b = Comparable(as_file.json);
  EXPECT_EQ(a["attestation"]["evidence_container"], "lunal-envelope");
  a["attestation"].erase("evidence_container");
  b["attestation"].erase("evidence_container");
  EXPECT_EQ(a, b);
}

TEST(ServiceEvidenceRequestTest, TheFileAsAnOctetStreamGivesTheSameRecord) {
  ASSERT_FALSE(ServiceUrl().empty());
  // A raw TDX quote, and SNP evidence in a JSON container that carries its VCEK (certificates
  // given beside the evidence need the JSON form).
  for (const Row& row : {Rows()[0], Rows()[17]}) {
    ASSERT_TRUE(row.cert.empty()) << row.file;
    net::HttpClient client;
    auto raw = client.Send({.method = "POST",
                            .url = ServiceUrl() + "?at=" + row.as_of,
                            .headers = {{"Authorization", "Bearer " + std::string(testing::kToken)},
                                        {"Content-Type", "application/octet-stream"}},
                            .body = ToString(lunal::testing::ReadFileBytes(Evidence(row.file)))});
    ASSERT_TRUE(raw.ok()) << raw.error();
    ASSERT_EQ(raw->status, 200) << raw->body;
    EXPECT_EQ(Comparable(ParseJson(raw->body).value()),
              Comparable(Post(ServiceUrl(), RequestFor(row)).json))
        << row.file;
  }
}

TEST(ServiceEvidenceRequestTest, EvidenceInNoContainerWeReadIs400LikeTheCliUsageError) {
  ASSERT_FALSE(ServiceUrl().empty());
  lunal::testing::TempDir dir;
  const Bytes quote = lunal::testing::ReadFileBytes(Evidence(kRs + "tdx_quote_4.dat"));
  const std::string truncated(quote.begin(), quote.begin() + 100);
  lunal::testing::WriteFile(dir / "truncated.dat", truncated);
  Reply served = Post(ServiceUrl(), {{"evidence", Base64Encode(AsBytes(truncated))}});
  EXPECT_EQ(served.status, 400) << served.text;
  EXPECT_EQ(served.Reason(), "attestation.evidence_unrecognized");
  auto cli = lunal::testing::RunProcess({(lunal::testing::BinaryDir() / "src/cli/lunal").string(),
                                         "attestation", "verify", "--json", "--evidence",
                                         (dir / "truncated.dat").string()});
  EXPECT_EQ(cli.exit_code, 2);
  auto json = ParseJson(cli.out);
  ASSERT_TRUE(json.ok()) << cli.out << cli.err;
  EXPECT_EQ((*json)["error"]["reason"], served.Reason());
  // A flag that does not apply to the TEE is the request's fault too.
  Reply cert_for_tdx =
      Post(ServiceUrl(), {{"evidence", Base64Of(Evidence(kRs + "tdx_quote_4.dat"))},
                          {"certs", Json::array({Base64Of(Evidence(kRs + "snp/test-vcek.der"))})}});
  EXPECT_EQ(cert_for_tdx.status, 400);
  EXPECT_EQ(cert_for_tdx.Reason(), "attestation.option_not_applicable");
}

}  // namespace
}  // namespace lunal::attest::service
