// Test support for the collateral tests: the Intel collateral pool in ../shared/evidence and small
// text edits for mutation tables.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace lunal::attest::tdx::testing {

// ../shared/evidence/collateral/intel
std::filesystem::path CollateralDir();
// The text of a file in CollateralDir() (fails the test if missing).
std::string ReadCollateral(std::string_view name);
// Names of the files in CollateralDir() that start with `prefix` ("tcb_info__", "qe_identity__").
std::vector<std::string> CollateralFiles(std::string_view prefix);

// Real Intel-signed documents used throughout the tests.
inline constexpr std::string_view kTcbInfo90c06f =
    "tcb_info__lunal-attestation-rs__crates__attestation__test_data__collateral__tcb_info_"
    "90c06f000000.json";  // FMSPC 90c06f000000, TDX module identities, 3 levels
inline constexpr std::string_view kTcbInfo50806f =
    "tcb_info__lunal-attestation-rs__crates__attestation__test_data__collateral__tcb_info_"
    "50806f000000.json";
inline constexpr std::string_view kQeIdentity =
    "qe_identity__lunal-attestation-rs__crates__attestation__test_data__collateral__td_qe_"
    "identity.json";
// Signed under Intel's test PKI (must never be trusted).
inline constexpr std::string_view kTestPkiQeIdentity =
    "qe_identity__intel-qvl__Src__AttestationApp__sampleData__tdx__qeIdentity.json";
inline constexpr std::string_view kTestPkiTcbInfo =
    "tcb_info__intel-qvl__Src__AttestationApp__sampleData__tdx__tcbInfo.json";

// `text` with the first occurrence of `from` replaced by `to`; fails the test if absent.
std::string ReplaceOnce(std::string text, std::string_view from, std::string_view to);

}  // namespace lunal::attest::tdx::testing
