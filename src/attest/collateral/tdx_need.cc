// TdxNeedOf and DocumentInfoToJson (source.h).
#include "lunal/attest/collateral/source.h"
#include "lunal/attest/tdx/quote.h"
#include "lunal/crypto/x509.h"

namespace lunal::attest::collateral {

Result<TdxNeed> TdxNeedOf(ByteSpan quote) {
  // A hint for fetching only: nothing here is trusted, and the verifier derives FMSPC and CA again
  // from the chain it validated. Trailing bytes do not matter for that.
  LUNAL_ASSIGN_OR_RETURN(
      tdx::QuoteView view,
      tdx::ParseQuote(quote, {.trailing = tdx::ParseOptions::Trailing::kIgnore}));
  auto chain = crypto::ParsePemChain(view.pck_cert_chain_pem);
  if (!chain.ok()) {
    const Status& e = chain.error();
    return Status(e.code(), "tdx.pck_chain." + e.reason().substr(e.reason().rfind('.') + 1),
                  fmt::format("PCK certificate chain: {}", e.message()));
  }
  const crypto::Certificate& leaf = chain->front();  // Intel's order: PCK, CA, root
  auto extension = leaf.Extension(tdx::kSgxExtensionOid);
  if (!extension) {
    return Malformed("tdx.pck.no_sgx_extension", "the PCK certificate has no SGX extension ({})",
                     tdx::kSgxExtensionOid);
  }
  LUNAL_ASSIGN_OR_RETURN(tdx::PckExtensions pck, tdx::ParsePckExtensions(*extension));
  LUNAL_ASSIGN_OR_RETURN(tdx::PckCa ca, tdx::PckCaFromIssuerName(leaf.IssuerName()));
  return TdxNeed{.fmspc = pck.fmspc, .ca = ca};
}

Json DocumentInfoToJson(const DocumentInfo& info) {
  auto time = [](const std::optional<Timestamp>& t) {
    return t ? Json(FormatRfc3339(*t)) : Json(nullptr);
  };
  return Json{{"kind", info.kind},
              {"key", info.key},
              {"source", info.source},
              {"issued", time(info.issued)},
              {"next_update", time(info.next_update)},
              {"fetched", time(info.fetched)},
              {"valid", info.valid},
              {"detail", info.detail}};
}

}  // namespace lunal::attest::collateral
