// Fuzz target: the DSSE envelope parser (src/crypto/dsse.h) and the provenance verifier
// (src/build/provenance) that runs on top of it.
// Invariants: nothing crashes; a parsed envelope serialises and re-parses to the same envelope
// (one reading per text); verification with a fixed key never succeeds on fuzzed input.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "lunal/build/provenance.h"
#include "lunal/crypto/dsse.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = lunal::crypto::ParseDsse(text);
  if (parsed.ok()) {
    auto again = lunal::crypto::ParseDsse(lunal::crypto::SerializeDsse(*parsed));
    if (!again.ok() || again->payload != parsed->payload ||
        again->payload_type != parsed->payload_type ||
        again->signatures.size() != parsed->signatures.size()) {
      std::abort();
    }
    for (std::size_t i = 0; i < parsed->signatures.size(); ++i) {
      if (again->signatures[i].sig != parsed->signatures[i].sig ||
          again->signatures[i].keyid != parsed->signatures[i].keyid ||
          again->signatures[i].extension != parsed->signatures[i].extension) {
        std::abort();
      }
    }
  }
  // A fresh P-256 key whose private half is dropped at once: nothing a fuzzer writes can verify
  // under it.
  static const lunal::Bytes kSpki = [] {
    auto key = lunal::crypto::PrivateKey::Generate(lunal::crypto::KeyType::kEcP256);
    if (!key.ok()) std::abort();
    return key->PublicKey().value().ToSpkiDer().value();
  }();
  if (lunal::build::VerifyProvenance(text, {.trusted_key_spki = kSpki}).ok()) std::abort();
  return 0;
}
