// Fuzz target: SNP report containers (raw, HCL, hex, base64, JSON envelopes, trustee's decoded
// report) and the report structure parser. Every span of a parsed report is read (so the
// sanitizers see any out-of-bounds view), and two invariants must hold: the report a view names
// parses again to the same fields, and its signed region is its first 0x2A0 bytes.
#include <cstdint>
#include <cstdlib>

#include "lunal/attest/snp/evidence_input.h"
#include "lunal/attest/snp/report.h"

namespace {
namespace snp = lunal::attest::snp;

std::size_t Touch(lunal::ByteSpan bytes) {
  std::size_t sum = 0;
  for (std::uint8_t b : bytes) sum += b;
  return sum;
}

std::size_t TouchAll(const snp::ReportView& r) {
  std::size_t acc = Touch(r.report) + Touch(r.signed_region) + Touch(r.trailing);
  for (lunal::ByteSpan s :
       {lunal::ByteSpan(r.family_id), lunal::ByteSpan(r.image_id), lunal::ByteSpan(r.report_data),
        lunal::ByteSpan(r.measurement), lunal::ByteSpan(r.host_data),
        lunal::ByteSpan(r.id_key_digest), lunal::ByteSpan(r.author_key_digest),
        lunal::ByteSpan(r.report_id), lunal::ByteSpan(r.report_id_ma), lunal::ByteSpan(r.chip_id),
        lunal::ByteSpan(r.signature_r), lunal::ByteSpan(r.signature_s),
        lunal::ByteSpan(r.current_tcb.raw), lunal::ByteSpan(r.reported_tcb.raw),
        lunal::ByteSpan(r.committed_tcb.raw), lunal::ByteSpan(r.launch_tcb.raw)}) {
    acc += Touch(s);
  }
  for (snp::Product p : {snp::Product::kMilan, snp::Product::kGenoa, snp::Product::kTurin}) {
    acc += r.reported_tcb.Decode(p).snp;
  }
  acc += r.policy.FlagNames().size();
  return acc;
}

void CheckReport(lunal::ByteSpan bytes) {
  auto r = snp::ParseReport(bytes);
  if (!r.ok()) return;
  volatile std::size_t sink = TouchAll(*r);
  (void)sink;
  auto again = snp::ParseReport(r->report);
  if (!again.ok() || again->report.size() != r->report.size() || !again->trailing.empty() ||
      again->version != r->version || again->policy.bits != r->policy.bits ||
      r->signed_region.size() != 0x2A0 || r->signed_region.data() != r->report.data()) {
    std::abort();
  }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  lunal::ByteSpan input(data, size);
  CheckReport(input);
  auto decoded = snp::DecodeReportContainer(input);
  if (decoded.ok()) {
    (void)snp::ContainerName(decoded->container);
    CheckReport(decoded->report);
  }
  return 0;
}
