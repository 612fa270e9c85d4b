#include "evidence_check.h"

#include <algorithm>
#include <string>

#include "lunal/attest/snp/report.h"
#include "lunal/attest/tdx/quote.h"

namespace lunal::attest::internal {

Status CheckReportData(TeeType tee, ByteSpan quote,
                       std::span<const std::uint8_t, kReportDataSize> report_data,
                       std::string_view prefix, std::string_view source) {
  ByteSpan found;
  std::string context = std::string(source) + ": ";
  if (tee == TeeType::kTdx) {
    // Quotes from configfs may carry padding; nothing after the declared end is signed or used.
    tdx::ParseOptions options;
    options.trailing = tdx::ParseOptions::Trailing::kIgnore;
    Result<tdx::QuoteView> view = tdx::ParseQuote(quote, options);
    if (!view) return view.error().WithContext(context);
    found = view->body.report_data;
  } else {
    Result<snp::ReportView> view = snp::ParseReport(quote);
    if (!view) return view.error().WithContext(context);
    found = view->report_data;
  }
  if (!std::equal(found.begin(), found.end(), report_data.begin(), report_data.end())) {
    return Unavailable(std::string(prefix) + ".report_data_mismatch",
                       "{}: the {} evidence carries other REPORT_DATA than was asked for", source,
                       TeeTypeName(tee));
  }
  return Status::Ok();
}

}  // namespace lunal::attest::internal
