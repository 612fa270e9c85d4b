// `lunal attestation verify`: offline verification of TEE evidence files.
#pragma once

#include <string>
#include <vector>

namespace lunal::cli {

struct VerifyFlags {
  std::string evidence;
  std::vector<std::string> certs;
  std::vector<std::string> collateral;
  std::string at;
  std::string expected_report_data;
  std::string event_log;
  std::string nonce;  // Azure vTPM quotes: expected extraData, hex
  bool json = false;
};

// Runs the command: prints the result (human or JSON) and returns the exit code.
int RunAttestationVerify(const VerifyFlags& flags);

}  // namespace lunal::cli
