// Fuzz target: TDX quote containers and the quote structure parser. Every span of a parsed quote
// is read (so the sanitizers see any out-of-bounds view), and two invariants must hold: the
// quote a view names parses again to the same structure, and zero padding never changes it.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "lunal/attest/tdx/evidence_input.h"
#include "lunal/attest/tdx/quote.h"

namespace {
namespace tdx = lunal::attest::tdx;

std::size_t Touch(lunal::ByteSpan bytes) {
  std::size_t sum = 0;
  for (std::uint8_t b : bytes) sum += b;
  return sum;
}

std::size_t TouchAll(const tdx::QuoteView& q) {
  std::size_t acc = Touch(q.quote) + Touch(q.signed_region) + Touch(q.trailing);
  acc += Touch(q.header.raw) + Touch(q.header.qe_vendor_id) + Touch(q.header.user_data);
  const tdx::TdReportBody& b = q.body;
  for (lunal::ByteSpan s :
       {b.raw, lunal::ByteSpan(b.tee_tcb_svn), lunal::ByteSpan(b.mr_seam),
        lunal::ByteSpan(b.mr_signer_seam), lunal::ByteSpan(b.seam_attributes),
        lunal::ByteSpan(b.td_attributes.raw), lunal::ByteSpan(b.xfam), lunal::ByteSpan(b.mr_td),
        lunal::ByteSpan(b.mr_config_id), lunal::ByteSpan(b.mr_owner),
        lunal::ByteSpan(b.mr_owner_config), lunal::ByteSpan(b.report_data)}) {
    acc += Touch(s);
  }
  for (auto rtmr : b.rtmr) acc += Touch(rtmr);
  if (b.tee_tcb_svn_2) acc += Touch(*b.tee_tcb_svn_2);
  if (b.mr_service_td) acc += Touch(*b.mr_service_td);
  acc += b.td_attributes.FlagNames().size();
  const tdx::QeReport& r = q.qe_report;
  for (lunal::ByteSpan s : {r.raw, lunal::ByteSpan(r.cpu_svn), lunal::ByteSpan(r.isv_ext_prod_id),
                            lunal::ByteSpan(r.attributes), lunal::ByteSpan(r.mr_enclave),
                            lunal::ByteSpan(r.mr_signer), lunal::ByteSpan(r.config_id),
                            lunal::ByteSpan(r.isv_family_id), lunal::ByteSpan(r.report_data),
                            r.reserved[0], r.reserved[1], r.reserved[2], r.reserved[3]}) {
    acc += Touch(s);
  }
  acc += Touch(q.signature) + Touch(q.attestation_key) + Touch(q.qe_cert_data);
  acc += Touch(q.qe_report_signature) + Touch(q.qe_auth_data) + Touch(q.pck_cert_chain_data);
  acc += Touch(lunal::AsBytes(q.pck_cert_chain_pem));
  return acc;
}

void CheckQuote(lunal::ByteSpan bytes) {
  auto q = tdx::ParseQuote(bytes, {.trailing = tdx::ParseOptions::Trailing::kIgnore});
  if (!q.ok()) return;
  volatile std::size_t sink = TouchAll(*q);
  (void)sink;
  // The quote a view names is a complete quote on its own, with the same structure.
  auto again = tdx::ParseQuote(q->quote);
  if (!again.ok() || again->quote.size() != q->quote.size() || !again->trailing.empty() ||
      again->signed_region.size() != q->signed_region.size() ||
      again->pck_cert_chain_pem != q->pck_cert_chain_pem) {
    std::abort();
  }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  lunal::ByteSpan input(data, size);
  CheckQuote(input);
  auto decoded = tdx::DecodeQuoteContainer(input);
  if (decoded.ok()) {
    (void)tdx::ContainerName(decoded->container);
    CheckQuote(decoded->quote);
  }
  return 0;
}
