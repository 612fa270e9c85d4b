// Re-encodes an SNP report that a JSON document holds as decoded fields (virtee/sev's serde
// AttestationReport, as trustee's SnpEvidence serializes it) into the report's 1184 bytes.
// Reserved ranges are written as zero, which is what a valid report holds: the re-encoded bytes
// are exactly the signed ones only if the decoding was faithful, and the report signature
// (verify.h) is what proves it. Private to attest/snp.
//
// Errors: json.* (missing or mistyped members, with their path), snp.container.bad_byte_array
// (a byte array of the wrong length or with a value outside 0..255).
#pragma once

#include "lunal/common/bytes.h"
#include "lunal/common/json.h"
#include "lunal/common/result.h"

namespace lunal::attest::snp::internal {

Result<Bytes> EncodeDecodedReport(const Json& report, std::string_view path);

}  // namespace lunal::attest::snp::internal
