// Fuzz target: SSHSIG armor and blob parsers, and the allowed_signers parser (src/sign).
// Invariants: nothing crashes; a parsed signature re-verifies without crashing; a parsed
// allowed_signers file has one entry per non-comment line at most.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "lunal/sign/allowed_signers.h"
#include "lunal/sign/sshsig.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  lunal::ByteSpan bytes(data, size);
  if (auto sig = lunal::sign::ParseArmoredSshSignature(text); sig.ok()) {
    lunal::sign::VerifySshSignature(*sig, bytes, sig->namespace_).IgnoreError();  // any verdict
  }
  if (auto sig = lunal::sign::ParseSshSignatureBlob(bytes); sig.ok()) {
    (void)sig->public_key.Id();
  }
  if (auto signers = lunal::sign::AllowedSigners::Parse(text, "fuzz"); signers.ok()) {
    std::size_t lines = 1;
    for (char c : text) lines += c == '\n' ? 1 : 0;
    if (signers->entries().size() > lines) std::abort();
  }
  return 0;
}
