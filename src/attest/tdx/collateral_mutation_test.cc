// Mutation tables over real Intel collateral: each row edits one thing in a real document and
// names the error code and reason the parser must give.
#include <gtest/gtest.h>

#include <string>

#include "lunal/attest/tdx/collateral.h"
#include "test_collateral.h"

namespace lunal::attest::tdx {
namespace {

using testing::ReadCollateral;
using testing::ReplaceOnce;

struct Mutation {
  const char* name;
  std::string_view from;
  std::string_view to;
  Code code;  // kOk: must still parse
  std::string_view reason;
};

void PrintTo(const Mutation& m, std::ostream* os) { *os << m.name; }

class TcbInfoMutation : public ::testing::TestWithParam<Mutation> {};

// Applies `m` to the real document `file` and checks what `parse` makes of it.
template <typename Parse>
void ExpectMutation(const Mutation& m, std::string_view file, Parse parse) {
  std::string text = ReplaceOnce(ReadCollateral(file), m.from, m.to);
  auto r = parse(text);
  if (m.code == Code::kOk) {
    EXPECT_TRUE(r.ok()) << r.error();
    return;
  }
  ASSERT_FALSE(r.ok()) << "parsed a document with " << m.name;
  EXPECT_EQ(r.error().code(), m.code) << r.error();
  EXPECT_EQ(r.error().reason(), m.reason) << r.error();
}

TEST_P(TcbInfoMutation, GivesTheRightReason) {
  ExpectMutation(GetParam(), testing::kTcbInfo90c06f, ParseTcbInfo);
}

constexpr std::string_view kLevel2Status =
    R"("tcbDate":"2024-03-13T00:00:00Z","tcbStatus":"OutOfDate","advisoryIDs":["INTEL-SA-01036","INTEL-SA-01079")";
constexpr std::string_view kModuleLevel =
    R"({"tcb":{"isvsvn":3},"tcbDate":"2024-11-13T00:00:00Z","tcbStatus":"UpToDate"})";
constexpr std::string_view kFirstComponent =
    R"({"svn":3,"category":"BIOS","type":"Early Microcode Update"})";

INSTANTIATE_TEST_SUITE_P(
    Table, TcbInfoMutation,
    ::testing::Values(
        // tcbStatus strings
        Mutation{
            "unknown_status", kLevel2Status,
            R"("tcbDate":"2024-03-13T00:00:00Z","tcbStatus":"OutOfDat","advisoryIDs":["INTEL-SA-01036","INTEL-SA-01079")",
            Code::kMalformed, "tdx.tcb_info.bad_tcb_status"},
        Mutation{
            "result_only_status", kLevel2Status,
            R"("tcbDate":"2024-03-13T00:00:00Z","tcbStatus":"TDRelaunchAdvised","advisoryIDs":["INTEL-SA-01036","INTEL-SA-01079")",
            Code::kMalformed, "tdx.tcb_info.bad_tcb_status"},
        Mutation{
            "lowercase_status", kLevel2Status,
            R"("tcbDate":"2024-03-13T00:00:00Z","tcbStatus":"outofdate","advisoryIDs":["INTEL-SA-01036","INTEL-SA-01079")",
            Code::kMalformed, "tdx.tcb_info.bad_tcb_status"},
        Mutation{
            "module_level_configuration_needed", kModuleLevel,
            R"({"tcb":{"isvsvn":3},"tcbDate":"2024-11-13T00:00:00Z","tcbStatus":"ConfigurationNeeded"})",
            Code::kMalformed, "tdx.tcb_info.bad_tcb_status"},
        Mutation{"status_number", kModuleLevel,
                 R"({"tcb":{"isvsvn":3},"tcbDate":"2024-11-13T00:00:00Z","tcbStatus":0})",
                 Code::kMalformed, "tdx.tcb_info.wrong_type"},
        // missing fields
        Mutation{"no_pce_id", R"("pceId":"0000",)", "", Code::kMalformed,
                 "tdx.tcb_info.missing_field"},
        Mutation{"no_tdx_module", R"("tdxModule":)", R"("tdxModulX":)", Code::kMalformed,
                 "tdx.tcb_info.missing_field"},
        Mutation{"no_tcb_levels", R"("tcbLevels":[{"tcb":{"sgx)", R"("tcbLevelz":[{"tcb":{"sgx)",
                 Code::kMalformed, "tdx.tcb_info.missing_field"},
        Mutation{"no_module_level_date", R"("tcbDate":"2024-11-13T00:00:00Z",)", "",
                 Code::kMalformed, "tdx.tcb_info.missing_field"},
        Mutation{"no_svn", kFirstComponent, R"({"category":"BIOS"})", Code::kMalformed,
                 "tdx.tcb_info.missing_field"},
        Mutation{"no_wrapper_member", R"({"tcbInfo":)", R"({"tcbInfX":)", Code::kMalformed,
                 "tdx.tcb_info.missing_field"},
        Mutation{"no_signature", R"(,"signature":)", R"(,"signaturX":)", Code::kMalformed,
                 "tdx.tcb_info.missing_field"},
        // wrong types
        Mutation{"eval_number_string", R"("tcbEvaluationDataNumber":18)",
                 R"("tcbEvaluationDataNumber":"18")", Code::kMalformed, "tdx.tcb_info.wrong_type"},
        Mutation{"version_float", R"("version":3)", R"("version":3.0)", Code::kMalformed,
                 "tdx.tcb_info.wrong_type"},
        Mutation{"tcb_type_bool", R"("tcbType":0)", R"("tcbType":false)", Code::kMalformed,
                 "tdx.tcb_info.wrong_type"},
        Mutation{"fmspc_number", R"("fmspc":"90c06f000000")", R"("fmspc":900)", Code::kMalformed,
                 "tdx.tcb_info.wrong_type"},
        Mutation{"category_number", kFirstComponent,
                 R"({"svn":3,"category":7,"type":"Early Microcode Update"})", Code::kMalformed,
                 "tdx.tcb_info.wrong_type"},
        Mutation{"advisory_id_number", R"("advisoryIDs":["INTEL-SA-01036","INTEL-SA-01079")",
                 R"("advisoryIDs":[1036,"INTEL-SA-01079")", Code::kMalformed,
                 "tdx.tcb_info.wrong_type"},
        Mutation{"advisory_ids_string", R"("advisoryIDs":["INTEL-SA-01036","INTEL-SA-01079")",
                 R"("advisoryIDs":"INTEL-SA-01036","x":["INTEL-SA-01079")", Code::kMalformed,
                 "tdx.tcb_info.wrong_type"},
        Mutation{"unbalanced_brackets", R"("tcbLevels":[{"tcb":{"sgx)",
                 R"("tcbLevels":{"x":[{"tcb":{"sgx)", Code::kMalformed, "json.syntax"},
        Mutation{"level_not_object", R"("tcbLevels":[{"tcb":{"sgx)",
                 R"("tcbLevels":[7,{"tcb":{"sgx)", Code::kMalformed, "tdx.tcb_info.wrong_type"},
        // ranges
        Mutation{"svn_256", kFirstComponent,
                 R"({"svn":256,"category":"BIOS","type":"Early Microcode Update"})",
                 Code::kMalformed, "tdx.tcb_info.out_of_range"},
        Mutation{"negative_pcesvn", R"("pcesvn":5,)", R"("pcesvn":-5,)", Code::kMalformed,
                 "tdx.tcb_info.out_of_range"},
        Mutation{"pcesvn_65536", R"("pcesvn":5,)", R"("pcesvn":65536,)", Code::kMalformed,
                 "tdx.tcb_info.out_of_range"},
        Mutation{"isvsvn_65536", R"({"tcb":{"isvsvn":3})", R"({"tcb":{"isvsvn":65536})",
                 Code::kMalformed, "tdx.tcb_info.out_of_range"},
        Mutation{"eval_number_2_32", R"("tcbEvaluationDataNumber":18)",
                 R"("tcbEvaluationDataNumber":4294967296)", Code::kMalformed,
                 "tdx.tcb_info.out_of_range"},
        // id, version, type
        Mutation{"sgx_tcb_info", R"("id":"TDX")", R"("id":"SGX")", Code::kUnsupported,
                 "tdx.tcb_info.unsupported_id"},
        Mutation{"lowercase_id", R"("id":"TDX")", R"("id":"tdx")", Code::kUnsupported,
                 "tdx.tcb_info.unsupported_id"},
        Mutation{"version_2", R"("version":3)", R"("version":2)", Code::kUnsupported,
                 "tdx.tcb_info.unsupported_version"},
        Mutation{"version_4", R"("version":3)", R"("version":4)", Code::kUnsupported,
                 "tdx.tcb_info.unsupported_version"},
        Mutation{"tcb_type_1", R"("tcbType":0)", R"("tcbType":1)", Code::kUnsupported,
                 "tdx.tcb_info.unsupported_tcb_type"},
        // hex fields
        Mutation{"short_fmspc", R"("fmspc":"90c06f000000")", R"("fmspc":"90c06f0000")",
                 Code::kMalformed, "tdx.tcb_info.bad_length"},
        Mutation{"long_fmspc", R"("fmspc":"90c06f000000")", R"("fmspc":"90c06f00000000")",
                 Code::kMalformed, "tdx.tcb_info.bad_length"},
        Mutation{"non_hex_pce_id", R"("pceId":"0000")", R"("pceId":"00zz")", Code::kMalformed,
                 "tdx.tcb_info.bad_hex"},
        Mutation{"short_module_mrsigner", R"("tdxModule":{"mrsigner":"00)",
                 R"("tdxModule":{"mrsigner":")", Code::kMalformed, "tdx.tcb_info.bad_length"},
        Mutation{"short_attributes_mask", R"("attributesMask":"FFFFFFFFFFFFFFFF")",
                 R"("attributesMask":"FFFFFFFFFFFFFFF")", Code::kMalformed,
                 "tdx.tcb_info.bad_length"},
        Mutation{"short_signature", R"("signature":"bf)", R"("signature":")", Code::kMalformed,
                 "tdx.tcb_info.bad_length"},
        Mutation{"non_hex_signature", R"("signature":"bf)", R"("signature":"xf)", Code::kMalformed,
                 "tdx.tcb_info.bad_hex"},
        // dates
        Mutation{"space_date", R"("issueDate":"2026-03-16T22:06:09Z")",
                 R"("issueDate":"2026-03-16 22:06:09")", Code::kMalformed, "tdx.tcb_info.bad_date"},
        Mutation{"month_13", R"("tcbDate":"2024-11-13T00:00:00Z")",
                 R"("tcbDate":"2024-13-13T00:00:00Z")", Code::kMalformed, "tdx.tcb_info.bad_date"},
        Mutation{"next_before_issue", R"("nextUpdate":"2026-04-15T22:06:09Z")",
                 R"("nextUpdate":"2026-03-01T00:00:00Z")", Code::kMalformed,
                 "tdx.tcb_info.bad_validity"},
        // structure
        Mutation{"fifteen_components",
                 R"({"svn":0},{"svn":5,"category":"OS/VMM","type":"SEAMLDR ACM"})",
                 R"({"svn":5,"category":"OS/VMM","type":"SEAMLDR ACM"})", Code::kMalformed,
                 "tdx.tcb_info.bad_component_count"},
        Mutation{"duplicate_level", R"("pcesvn":5,)", R"("pcesvn":13,)", Code::kMalformed,
                 "tdx.tcb_info.duplicate_tcb_level"},
        Mutation{"duplicate_module_identity", R"("id":"TDX_01")", R"("id":"tdx_03")",
                 Code::kMalformed, "tdx.tcb_info.duplicate_module_identity"},
        Mutation{"duplicate_module_level", R"({"tcb":{"isvsvn":4})", R"({"tcb":{"isvsvn":6})",
                 Code::kMalformed, "tdx.tcb_info.duplicate_tcb_level"},
        Mutation{
            "empty_module_levels",
            R"("tcbLevels":[{"tcb":{"isvsvn":3},"tcbDate":"2024-11-13T00:00:00Z","tcbStatus":"UpToDate"}])",
            R"("tcbLevels":[])", Code::kMalformed, "tdx.tcb_info.empty_tcb_levels"},
        // JSON strictness
        Mutation{"duplicate_key", R"("tcbType":0,)", R"("tcbType":0,"tcbType":0,)",
                 Code::kMalformed, "json.duplicate_key"},
        Mutation{"duplicate_wrapper_key", R"(,"signature":)", R"(,"tcbInfo":{},"signature":)",
                 Code::kMalformed, "json.duplicate_key"},
        Mutation{"trailing_comma", R"("tcbType":0,)", R"("tcbType":0,,)", Code::kMalformed,
                 "json.syntax"},
        // accepted: unknown fields (inside the signed bytes) and whitespace
        Mutation{"unknown_field", R"({"id":"TDX",)", R"({"id":"TDX","futureField":{"x":[1]},)",
                 Code::kOk, ""},
        Mutation{"whitespace", R"({"tcbInfo":{)", "{ \"tcbInfo\" :\n { ", Code::kOk, ""},
        Mutation{"uppercase_hex", R"("fmspc":"90c06f000000")", R"("fmspc":"90C06F000000")",
                 Code::kOk, ""}),
    [](const ::testing::TestParamInfo<Mutation>& param) { return std::string(param.param.name); });

class QeIdentityMutation : public ::testing::TestWithParam<Mutation> {};

TEST_P(QeIdentityMutation, GivesTheRightReason) {
  ExpectMutation(GetParam(), testing::kQeIdentity, ParseQeIdentity);
}

constexpr std::string_view kMrsigner =
    R"("mrsigner":"DC9E2A7C6F948F17474E34A7FC43ED030F7C1563F1BABDDF6340C82E0E54A8C5")";

INSTANTIATE_TEST_SUITE_P(
    Table, QeIdentityMutation,
    ::testing::Values(
        Mutation{"sgx_qe", R"("id":"TD_QE")", R"("id":"QE")", Code::kUnsupported,
                 "tdx.qe_identity.unsupported_id"},
        Mutation{"qve", R"("id":"TD_QE")", R"("id":"QVE")", Code::kUnsupported,
                 "tdx.qe_identity.unsupported_id"},
        Mutation{"version_1", R"("version":2)", R"("version":1)", Code::kUnsupported,
                 "tdx.qe_identity.unsupported_version"},
        Mutation{"version_string", R"("version":2)", R"("version":"2")", Code::kMalformed,
                 "tdx.qe_identity.wrong_type"},
        Mutation{"short_miscselect", R"("miscselect":"00000000")", R"("miscselect":"0000000")",
                 Code::kMalformed, "tdx.qe_identity.bad_length"},
        Mutation{"short_mrsigner", kMrsigner,
                 R"("mrsigner":"DC9E2A7C6F948F17474E34A7FC43ED030F7C1563F1BABDDF6340C82E0E54A8")",
                 Code::kMalformed, "tdx.qe_identity.bad_length"},
        Mutation{"non_hex_attributes", R"("attributes":"11)", R"("attributes":"1g)",
                 Code::kMalformed, "tdx.qe_identity.bad_hex"},
        Mutation{"isvprodid_string", R"("isvprodid":2)", R"("isvprodid":"2")", Code::kMalformed,
                 "tdx.qe_identity.wrong_type"},
        Mutation{"isvprodid_too_large", R"("isvprodid":2)", R"("isvprodid":70000)",
                 Code::kMalformed, "tdx.qe_identity.out_of_range"},
        Mutation{"sw_hardening_status", R"("tcbStatus":"UpToDate")",
                 R"("tcbStatus":"SWHardeningNeeded")", Code::kMalformed,
                 "tdx.qe_identity.bad_tcb_status"},
        Mutation{"no_mrsigner", kMrsigner, R"("mrsignex":"00")", Code::kMalformed,
                 "tdx.qe_identity.missing_field"},
        Mutation{"no_isvsvn", R"({"isvsvn":4})", R"({"isvsvN":4})", Code::kMalformed,
                 "tdx.qe_identity.missing_field"},
        Mutation{
            "empty_levels",
            R"("tcbLevels":[{"tcb":{"isvsvn":4},"tcbDate":"2024-11-13T00:00:00Z","tcbStatus":"UpToDate"}])",
            R"("tcbLevels":[])", Code::kMalformed, "tdx.qe_identity.empty_tcb_levels"},
        Mutation{
            "duplicate_level",
            R"({"tcb":{"isvsvn":4},"tcbDate":"2024-11-13T00:00:00Z","tcbStatus":"UpToDate"})",
            R"({"tcb":{"isvsvn":4},"tcbDate":"2024-11-13T00:00:00Z","tcbStatus":"UpToDate"},{"tcb":{"isvsvn":4},"tcbDate":"2023-11-13T00:00:00Z","tcbStatus":"OutOfDate"})",
            Code::kMalformed, "tdx.qe_identity.duplicate_tcb_level"},
        Mutation{"bad_next_update", R"("nextUpdate":"2026-04-15T22:16:03Z")",
                 R"("nextUpdate":"2026-03-16T22:16:03Z")", Code::kMalformed,
                 "tdx.qe_identity.bad_validity"},
        Mutation{"wrapper_is_array", R"({"enclaveIdentity":)", R"([{"enclaveIdentity":)",
                 Code::kMalformed, "json.syntax"},
        Mutation{"lower_hex_mrsigner", kMrsigner,
                 R"("mrsigner":"dc9e2a7c6f948f17474e34a7fc43ed030f7c1563f1babddf6340c82e0e54a8c5")",
                 Code::kOk, ""}),
    [](const ::testing::TestParamInfo<Mutation>& param) { return std::string(param.param.name); });

}  // namespace
}  // namespace lunal::attest::tdx
