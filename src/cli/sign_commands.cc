#include "sign_commands.h"

#include <fmt/format.h>

#include <string>

#include "lunal/cli/output.h"
#include "lunal/common/files.h"
#include "lunal/common/json.h"
#include "lunal/common/time.h"
#include "lunal/sign/allowed_signers.h"
#include "lunal/sign/signer.h"
#include "lunal/sign/sshsig.h"

namespace lunal::cli {

struct SignCommandsState {
  CLI::App* sign = nullptr;
  CLI::App* verify = nullptr;
  std::string hash_file;
  std::string key;
  std::string signature;
  std::string allowed_signers;
  std::string identity;
  std::string namespace_ = std::string(sign::kLunalNamespace);
};

namespace {

constexpr std::size_t kMaxHashFileBytes = std::size_t{64} << 20;

Json KeyIdJson(const sign::KeyId& id) {
  return Json{{"fingerprint", id.fingerprint}, {"bits", id.bits}, {"type", id.type}};
}

int RunSign(const SignCommandsState& s, bool json) {
  auto result =
      sign::SignFileWithSshKeygen(s.hash_file, {.key_path = s.key, .namespace_ = s.namespace_});
  if (!result.ok()) return ReportError(result.error(), json);
  if (json) {
    PrintJson(Json{{"file", s.hash_file},
                   {"signature", result->signature_path},
                   {"namespace", s.namespace_},
                   {"key_id", KeyIdJson(result->key_id)},
                   {"key_type", result->key_type},
                   {"signature_type", result->signature_type},
                   {"hash_algorithm", result->hash_algorithm}});
  } else {
    fmt::print("signed {} -> {} (namespace \"{}\")\nkey: {}\n", s.hash_file, result->signature_path,
               s.namespace_, result->key_id.ToString());
  }
  return kExitOk;
}

// On failure the key id is still shown when the signature parses, so the person can see who
// signed what was refused.
int ReportVerifyError(const Status& status, const std::string& armored, bool json) {
  std::optional<sign::KeyId> id;
  if (auto parsed = sign::ParseArmoredSshSignature(armored); parsed.ok()) {
    id = parsed->public_key.Id();
  }
  if (json) {
    Json out = ErrorJson(status);
    out["verified"] = false;
    if (id) out["key_id"] = KeyIdJson(*id);
    PrintJson(out);
  } else {
    fmt::print(stderr, "error: {} [{}]\n", status.message(), status.reason());
    if (id) fmt::print(stderr, "key: {}\n", id->ToString());
  }
  return ExitCodeFor(status.code());
}

int RunVerify(const SignCommandsState& s, bool json) {
  auto message = ReadFile(
      s.hash_file, {.max_bytes = kMaxHashFileBytes, .require_private = false, .no_follow = false});
  if (!message.ok()) return ReportError(message.error().WithContext("--hash-file"), json);
  auto armored = ReadFile(s.signature);
  if (!armored.ok()) return ReportError(armored.error().WithContext("--signature"), json);
  auto signers = sign::AllowedSigners::Load(s.allowed_signers);
  if (!signers.ok()) return ReportError(signers.error(), json);
  auto verified = sign::VerifyWithAllowedSigners(AsBytes(*message), *armored, *signers, s.identity,
                                                 s.namespace_, SystemClock::Instance().Now());
  if (!verified.ok()) return ReportVerifyError(verified.error(), *armored, json);
  if (json) {
    PrintJson(Json{{"verified", true},
                   {"file", s.hash_file},
                   {"signature", s.signature},
                   {"identity", verified->identity},
                   {"namespace", verified->namespace_},
                   {"key_id", KeyIdJson(verified->key_id)},
                   {"key_type", verified->key_type},
                   {"signature_type", verified->signature_type},
                   {"hash_algorithm", verified->hash_algorithm},
                   {"allowed_signers_line", verified->allowed_signers_line}});
  } else {
    fmt::print("verified: {} signed by \"{}\" (namespace \"{}\", {} line {})\nkey: {}\n",
               s.hash_file, verified->identity, verified->namespace_, s.allowed_signers,
               verified->allowed_signers_line, verified->key_id.ToString());
  }
  return kExitOk;
}

}  // namespace

SignCommands::SignCommands(std::unique_ptr<SignCommandsState> state) : state_(std::move(state)) {}
SignCommands::SignCommands(SignCommands&&) noexcept = default;
SignCommands& SignCommands::operator=(SignCommands&&) noexcept = default;
SignCommands::~SignCommands() = default;

SignCommands AddSignCommands(CLI::App& app) {
  auto state = std::make_unique<SignCommandsState>();
  SignCommandsState& s = *state;

  s.sign = app.add_subcommand(
      "sign",
      "Sign a build hash file with your SSH key through `ssh-keygen -Y sign` (SSHSIG,\n"
      "namespace \"lunal\"): keys in ssh-agent and passphrase-protected keys work. Writes\n"
      "FILE.sig once the new signature has verified.");
  s.sign->add_option("--hash-file", s.hash_file, "The file to sign, e.g. hash.txt")->required();
  s.sign
      ->add_option("--key", s.key,
                   "SSH private key (or its .pub when the key is in ssh-agent), e.g.\n"
                   "~/.ssh/id_ed25519")
      ->required();
  s.sign->add_option("--namespace", s.namespace_, "SSHSIG namespace (default: lunal)");
  s.sign->footer(
      "Example:\n"
      "  lunal sign --hash-file out/hash.txt --key ~/.ssh/id_ed25519\n"
      "Exit status: 0 signed, 2 bad usage, 3 ssh-keygen missing or failed, 5 no such file.");

  CLI::App* signature = app.add_subcommand("signature", "Verify developer signatures");
  signature->require_subcommand(1);
  s.verify = signature->add_subcommand(
      "verify",
      "Verify an SSHSIG signature natively (Ed25519, ECDSA P-256/P-384, RSA with\n"
      "rsa-sha2-256/512) against an OpenSSH allowed_signers file, as `ssh-keygen -Y verify`\n"
      "does, and show the signer's key id as `ssh-keygen -l` prints it.");
  s.verify->add_option("--hash-file", s.hash_file, "The signed file, e.g. hash.txt")->required();
  s.verify->add_option("--signature", s.signature, "The signature, e.g. hash.txt.sig")->required();
  s.verify
      ->add_option("--allowed-signers", s.allowed_signers,
                   "OpenSSH allowed_signers file (ssh-keygen(1) ALLOWED SIGNERS)")
      ->required();
  s.verify
      ->add_option("--identity", s.identity, "The signer identity to require, e.g. dev@example.com")
      ->required();
  s.verify->add_option("--namespace", s.namespace_, "Required namespace (default: lunal)");
  s.verify->footer(
      "Example:\n"
      "  lunal signature verify --hash-file hash.txt --signature hash.txt.sig \\\n"
      "      --allowed-signers allowed_signers --identity dev@example.com\n"
      "Exit status: 0 verified, 1 not verified (bad signature, wrong namespace, signer not\n"
      "allowed), 2 bad usage or malformed input, 5 no such file.");
  return SignCommands(std::move(state));
}

std::optional<int> RunSignCommands(SignCommands& commands, bool json) {
  SignCommandsState& s = commands.state();
  if (s.sign->parsed()) return RunSign(s, json);
  if (s.verify->parsed()) return RunVerify(s, json);
  return std::nullopt;
}

}  // namespace lunal::cli
