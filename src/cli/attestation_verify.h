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
  std::string nonce;     // Azure vTPM quotes: expected extraData, hex
  std::string policy;    // policy file (YAML/JSON); default: the default policy
  std::string sim_root;  // a Lunal Simulation Root CA certificate to trust explicitly
  bool json = false;
};

// Runs the command: prints the result (human or JSON) and returns the exit code.
int RunAttestationVerify(const VerifyFlags& flags);

}  // namespace lunal::cli
