// Fuzz target: Intel TDX collateral documents (TCB Info, TD QE identity, with the raw-JSON
// scanner behind them) and the PCK certificate's SGX extension. Invariants: the signed bytes of
// an accepted document are a substring of the input, and a document rebuilt around them parses to
// the same signed bytes and signature.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "lunal/attest/tdx/collateral.h"
#include "lunal/attest/tdx/pck_extensions.h"
#include "lunal/common/encoding.h"

namespace {
namespace tdx = lunal::attest::tdx;

template <typename Doc>
void CheckRebuilt(std::string_view input, std::string_view member, const Doc& doc,
                  lunal::Result<Doc> (*parse)(std::string_view)) {
  if (input.find(doc.signed_bytes) == std::string_view::npos) std::abort();
  std::string rebuilt = "{\"" + std::string(member) + "\":" + doc.signed_bytes +
                        ",\"signature\":\"" + lunal::HexEncode(doc.signature) + "\"}";
  auto again = parse(rebuilt);
  if (!again.ok() || again->signed_bytes != doc.signed_bytes || again->signature != doc.signature) {
    std::abort();
  }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto info = tdx::ParseTcbInfo(text); info.ok()) {
    CheckRebuilt<tdx::TcbInfo>(text, "tcbInfo", *info, &tdx::ParseTcbInfo);
    for (std::uint8_t major = 0; major < 4; ++major) (void)info->FindModuleIdentity(major);
    if (info->tcb_levels.empty() || info->FmspcHex().size() != 12) std::abort();
  }
  if (auto qe = tdx::ParseQeIdentity(text); qe.ok()) {
    CheckRebuilt<tdx::QeIdentity>(text, "enclaveIdentity", *qe, &tdx::ParseQeIdentity);
    if (qe->tcb_levels.empty()) std::abort();
  }
  if (auto ext = tdx::ParsePckExtensions(lunal::ByteSpan(data, size)); ext.ok()) {
    if (ext->FmspcHex().size() != 12) std::abort();
  }
  (void)tdx::PckCaFromIssuerName(text);
  return 0;
}
