// The one check an attester makes on what it returns: the report carries the REPORT_DATA that
// was asked for (Attester::Attest's contract). Structure only, through the TDX quote and SNP
// report parsers; no signature is looked at.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "lunal/attest/attester.h"
#include "lunal/common/bytes.h"
#include "lunal/common/status.h"

namespace lunal::attest::internal {

// The parsers' errors (prefixed with `source`) when `quote` does not parse as `tee` evidence;
// kUnavailable <prefix>.report_data_mismatch when it parses but carries other REPORT_DATA.
Status CheckReportData(TeeType tee, ByteSpan quote,
                       std::span<const std::uint8_t, kReportDataSize> report_data,
                       std::string_view prefix, std::string_view source);

}  // namespace lunal::attest::internal
