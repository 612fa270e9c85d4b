// ParsePolicy: the example document, defaults, the document form's round trip, and a table of
// documents that must be refused with their reason, file:line:column, field and did-you-mean.
#include <gtest/gtest.h>

#include "lunal/attest/policy/policy.h"
#include "lunal/common/encoding.h"
#include "lunal/testing/testing.h"
#include "yaml_reader.h"

namespace lunal::attest::policy {
namespace {

std::filesystem::path ExamplePath() {
  return lunal::testing::SourceDir() / "src/attest/policy/testdata/example.yaml";
}

TEST(PolicyParseTest, ReadsTheExampleDocument) {
  auto policy = LoadPolicyFile(ExamplePath());
  ASSERT_TRUE(policy.ok()) << policy.error();
  EXPECT_EQ(policy->allowed_tee_types, (std::vector<TeeType>{TeeType::kTdx, TeeType::kSnp}));
  EXPECT_FALSE(policy->allow_debug);
  EXPECT_FALSE(policy->allow_simulated);
  ASSERT_EQ(policy->build_hashes.size(), 1u);
  EXPECT_EQ(policy->build_hashes[0].substr(0, 15), "sha256:3f2a9c6d");
  EXPECT_EQ(policy->accepted_advisories,
            (std::vector<std::string>{"INTEL-SA-00837", "INTEL-SA-00960"}));
  EXPECT_EQ(policy->report_data.mode, ReportDataRule::Mode::kNonce);
  ASSERT_EQ(policy->tdx.reference_values.at("mr_td").size(), 1u);
  EXPECT_EQ(HexEncode(policy->tdx.reference_values.at("mr_td")[0]).substr(0, 16),
            "705ee9381b8633a9");
  EXPECT_TRUE(policy->tdx.reference_values.at("rtmr0").empty());
  EXPECT_EQ(HexEncode(*policy->tdx.min_tee_tcb_svn), "03000500000000000000000000000000");
  EXPECT_EQ(policy->tdx.min_pce_svn, 13);
  EXPECT_EQ(policy->tdx.min_qe_isv_svn, 8);
  EXPECT_EQ(policy->snp.min_tcb.snp, 14);
  EXPECT_EQ(policy->snp.min_tcb.microcode, 209);
  EXPECT_FALSE(policy->snp.min_tcb.fmc.has_value());
  EXPECT_EQ(policy->snp.max_vmpl, 0u);
  EXPECT_EQ(policy->snp.min_guest_svn, 1u);
}

TEST(PolicyParseTest, AnEmptyMappingIsTheDefaultPolicy) {
  auto yaml = ParsePolicy("{}", "p.yaml");
  ASSERT_TRUE(yaml.ok()) << yaml.error();
  EXPECT_EQ(*yaml, DefaultPolicy());
  const Policy d = DefaultPolicy();
  EXPECT_EQ(d.allowed_tee_types, (std::vector<TeeType>{TeeType::kTdx, TeeType::kSnp}));
  EXPECT_FALSE(d.allow_debug);
  EXPECT_FALSE(d.allow_simulated);
  EXPECT_EQ(d.accepted_tcb_statuses, (std::vector<std::string>{"UpToDate", "SWHardeningNeeded"}));
  EXPECT_EQ(d.snp.max_vmpl, 0u);
  EXPECT_EQ(d.report_data.mode, ReportDataRule::Mode::kAny);
}

TEST(PolicyParseTest, TheDocumentFormRoundTripsAsJson) {
  auto example = LoadPolicyFile(ExamplePath());
  ASSERT_TRUE(example.ok()) << example.error();
  for (const Policy& p : {*example, DefaultPolicy()}) {
    const std::string json = p.ToJson().dump(2);
    auto again = ParsePolicy(json, "roundtrip.json");
    ASSERT_TRUE(again.ok()) << again.error() << "\n" << json;
    EXPECT_EQ(*again, p) << json;
  }
}

TEST(PolicyParseTest, ReportDataExactAndHexCase) {
  const std::string hex(128, 'A');
  auto p = ParsePolicy("report_data: {expected: \"" + hex + "\"}", "p.yaml");
  ASSERT_TRUE(p.ok()) << p.error();
  EXPECT_EQ(p->report_data.mode, ReportDataRule::Mode::kExact);
  EXPECT_EQ(p->report_data.expected, Bytes(64, 0xaa));
  // Build hashes are kept lowercase, so that comparison is by value.
  auto b = ParsePolicy("build_hashes: [\"sha256:" + std::string(64, 'F') + "\"]", "p.yaml");
  ASSERT_TRUE(b.ok()) << b.error();
  EXPECT_EQ(b->build_hashes[0], "sha256:" + std::string(64, 'f'));
}

struct BadDocument {
  const char* name;
  std::string text;
  const char* reason;
  const char* where;  // "line:column" (1-based)
  const char* field;  // the field named after the position
  const char* hint;   // the did-you-mean suggestion, or nullptr for none
};

void PrintTo(const BadDocument& d, std::ostream* os) { *os << d.name; }

const std::string kHex48(96, 'a');

std::vector<BadDocument> BadDocuments() {
  return {
      {"TopLevelTypo", "version: 1\nalow_debug: true\n", "policy.unknown_key", "2:1", "alow_debug",
       "allow_debug"},
      {"NestedTypo", "tdx:\n  reference_values:\n    mrtd: []\n", "policy.unknown_key", "3:5",
       "tdx.reference_values.mrtd", "mr_td"},
      {"SnpKeyUnderTdx", "tdx:\n  reference_values:\n    measurement: []\n", "policy.unknown_key",
       "3:5", "tdx.reference_values.measurement", nullptr},
      {"TypoInJson", "{\"tee_types\": [\"tdx\"], \"allow_simulatd\": true}", "policy.unknown_key",
       "1:24", "allow_simulatd", "allow_simulated"},
      {"SectionTypo", "tbc:\n  accepted_statuses: [UpToDate]\n", "policy.unknown_key", "1:1", "tbc",
       "tcb"},
      {"NothingClose", "colour: red\n", "policy.unknown_key", "1:1", "colour", nullptr},
      {"MrTdOneByteShort",
       "tdx:\n  reference_values:\n    mr_td:\n      - \"" + kHex48.substr(2) + "\"\n",
       "policy.bad_value", "4:9", "tdx.reference_values.mr_td[0]", nullptr},
      {"HostDataIs32Bytes", "snp:\n  reference_values:\n    host_data: [\"" + kHex48 + "\"]\n",
       "policy.bad_value", "3:17", "snp.reference_values.host_data[0]", nullptr},
      {"NotHex", "snp:\n  reference_values:\n    measurement: [\"" + kHex48.substr(1) + "g\"]\n",
       "policy.bad_value", "3:19", "snp.reference_values.measurement[0]", nullptr},
      {"YesIsNotABoolean", "allow_debug: yes\n", "policy.wrong_type", "1:14", "allow_debug",
       nullptr},
      {"QuotedBoolean", "allow_simulated: \"false\"\n", "policy.wrong_type", "1:18",
       "allow_simulated", nullptr},
      {"UnknownTee", "tee_types: [tdx, sgx]\n", "policy.bad_value", "1:18", "tee_types[1]",
       nullptr},
      {"NoTee", "tee_types: []\n", "policy.bad_value", "1:12", "tee_types", nullptr},
      {"DuplicateKey", "allow_debug: false\nallow_debug: true\n", "policy.duplicate_key", "2:1",
       "allow_debug", nullptr},
      {"OutOfDateNeedsAdvisories", "tcb:\n  accepted_statuses: [UpToDate, OutOfDate]\n",
       "policy.bad_value", "2:33", "tcb.accepted_statuses[1]", nullptr},
      {"UnknownStatus", "tcb:\n  accepted_statuses: [UptoDate]\n", "policy.bad_value", "2:23",
       "tcb.accepted_statuses[0]", nullptr},
      {"Syntax", "tdx: [unclosed\n", "policy.syntax", "2:1", "", nullptr},
      {"ExactWithoutExpected", "report_data:\n  mode: exact\n", "policy.missing_field", "2:3",
       "report_data.expected", nullptr},
      {"ExpectedWithNonce",
       "report_data:\n  mode: nonce\n  expected: \"" + std::string(128, '0') + "\"\n",
       "policy.bad_value", "2:9", "report_data.mode", nullptr},
      {"ReportDataTooShort", "report_data:\n  expected: \"00\"\n", "policy.bad_value", "2:13",
       "report_data.expected", nullptr},
      {"BuildHashWithoutAlgorithm", "build_hashes: [\"" + std::string(64, 'a') + "\"]\n",
       "policy.bad_value", "1:16", "build_hashes[0]", nullptr},
      {"VmplAboveThree", "snp:\n  max_vmpl: 4\n", "policy.bad_value", "2:13", "snp.max_vmpl",
       nullptr},
      {"NegativeSvn", "tdx:\n  min_tcb:\n    pce_svn: -1\n", "policy.wrong_type", "3:14",
       "tdx.min_tcb.pce_svn", nullptr},
      {"SplAbove255", "snp:\n  min_tcb:\n    microcode: 256\n", "policy.bad_value", "3:16",
       "snp.min_tcb.microcode", nullptr},
      {"SplTypo", "snp:\n  min_tcb:\n    microcde: 1\n", "policy.unknown_key", "3:5",
       "snp.min_tcb.microcde", "microcode"},
      {"TeeTcbSvnLength", "tdx:\n  min_tcb:\n    tee_tcb_svn: \"0300\"\n", "policy.bad_value",
       "3:18", "tdx.min_tcb.tee_tcb_svn", nullptr},
      {"VersionTwo", "version: 2\n", "policy.bad_value", "1:10", "version", nullptr},
      {"ListWhereMapExpected", "tdx: [1, 2]\n", "policy.wrong_type", "1:6", "tdx", nullptr},
      {"NullValue", "allow_debug:\n", "policy.wrong_type", "1:1", "allow_debug", nullptr},
      {"RootIsAList", "- tdx\n", "policy.wrong_type", "1:1", "(document)", nullptr},
  };
}

class BadDocumentTest : public ::testing::TestWithParam<BadDocument> {};

TEST_P(BadDocumentTest, IsRefusedWithPositionFieldAndReason) {
  const BadDocument& d = GetParam();
  auto policy = ParsePolicy(d.text, "policy.yaml");
  ASSERT_FALSE(policy.ok()) << "accepted:\n" << d.text;
  EXPECT_EQ(policy.error().code(), Code::kInvalidArgument);
  EXPECT_EQ(policy.error().reason(), d.reason) << policy.error();
  const std::string& message = policy.error().message();
  const std::string prefix = std::string("policy.yaml:") + d.where + ": ";
  EXPECT_EQ(message.rfind(prefix, 0), 0u) << message;
  if (*d.field != '\0') {
    EXPECT_EQ(message.rfind(prefix + d.field + ": ", 0), 0u) << message;
  }
  if (d.hint != nullptr) {
    EXPECT_NE(message.find(std::string("did you mean \"") + d.hint + "\"?"), std::string::npos)
        << message;
  } else {
    EXPECT_EQ(message.find("did you mean"), std::string::npos) << message;
  }
}

INSTANTIATE_TEST_SUITE_P(Table, BadDocumentTest, ::testing::ValuesIn(BadDocuments()),
                         [](const auto& row) { return std::string(row.param.name); });

TEST(PolicyParseTest, EmptyDocumentsAreRefused) {
  for (const char* text : {"", "# only a comment\n", "~"}) {
    auto policy = ParsePolicy(text, "empty.yaml");
    ASSERT_FALSE(policy.ok()) << text;
    EXPECT_EQ(policy.error().reason(), "policy.empty");
  }
}

TEST(PolicyParseTest, DeepNestingIsASyntaxErrorNotACrash) {
  for (const std::string& text : {std::string(100000, '['), std::string(100000, '{')}) {
    auto policy = ParsePolicy(text, "deep.yaml");
    ASSERT_FALSE(policy.ok());
    EXPECT_EQ(policy.error().reason(), "policy.syntax") << policy.error();
  }
}

TEST(PolicyParseTest, AMissingFileIsNotFound) {
  lunal::testing::TempDir dir;
  auto policy = LoadPolicyFile(dir / "absent.yaml");
  ASSERT_FALSE(policy.ok());
  EXPECT_EQ(policy.error().code(), Code::kNotFound);
  EXPECT_EQ(policy.error().reason(), "policy.read_failed");
}

TEST(PolicyParseTest, FileErrorsNameThePath) {
  lunal::testing::TempDir dir;
  lunal::testing::WriteFile(dir / "p.yaml", "tee_types: [tdx]\nsnp:\n  max_vmp: 1\n");
  auto policy = LoadPolicyFile(dir / "p.yaml");
  ASSERT_FALSE(policy.ok());
  EXPECT_EQ(policy.error().message().rfind((dir / "p.yaml").string() + ":3:3: snp.max_vmp: ", 0),
            0u)
      << policy.error();
  EXPECT_NE(policy.error().message().find("did you mean \"max_vmpl\"?"), std::string::npos);
}

TEST(EditDistanceTest, CountsEdits) {
  EXPECT_EQ(internal::EditDistance("", ""), 0u);
  EXPECT_EQ(internal::EditDistance("mrtd", "mr_td"), 1u);
  EXPECT_EQ(internal::EditDistance("kitten", "sitting"), 3u);
  EXPECT_EQ(internal::EditDistance("abc", ""), 3u);
  constexpr std::string_view kKnown[] = {"allow_debug", "allow_simulated", "tee_types"};
  EXPECT_EQ(internal::ClosestName("allow_debugg", kKnown), "allow_debug");
  EXPECT_EQ(internal::ClosestName("tee_type", kKnown), "tee_types");
  EXPECT_EQ(internal::ClosestName("zzz", kKnown), std::nullopt);
}

}  // namespace
}  // namespace lunal::attest::policy
