// Fuzz target: Azure vTPM containers, the HCL report (with its TDREPORT and runtime JSON) and the
// TPMS_ATTEST parser. Every span a view returns is read, so the sanitizers see any view that
// points outside the input, and a parsed HCL report must parse again from its own bytes.
#include <cstdint>
#include <cstdlib>

#include "lunal/attest/azure/evidence_input.h"
#include "lunal/attest/azure/hcl_report.h"
#include "lunal/attest/azure/tpm_quote.h"

namespace {
namespace azure = lunal::attest::azure;

std::size_t Touch(lunal::ByteSpan bytes) {
  std::size_t sum = 0;
  for (std::uint8_t b : bytes) sum += b;
  return sum;
}

void CheckHcl(lunal::ByteSpan bytes) {
  auto hcl = azure::ParseHclReport(bytes);
  if (!hcl.ok()) return;
  volatile std::size_t sink = Touch(hcl->hw_report) + Touch(hcl->runtime_data);
  if (hcl->report_size + hcl->padding != bytes.size() || hcl->hw_report.size() != 1184) {
    std::abort();
  }
  if (auto td = azure::ParseHclTdReport(hcl->hw_report); td.ok()) {
    sink = sink + Touch(td->report_data) + Touch(td->mr_td) + Touch(td->rtmr[3]);
  }
  if (auto runtime = azure::ParseRuntimeData(hcl->runtime_data); runtime.ok()) {
    sink = sink + runtime->attestation_key.n.size();
  }
  (void)sink;
}

void CheckTpm(lunal::ByteSpan bytes) {
  auto quote = azure::ParseTpmQuote(bytes);
  if (!quote.ok()) return;
  volatile std::size_t sink =
      Touch(quote->qualified_signer) + Touch(quote->extra_data) + Touch(quote->pcr_digest);
  for (const auto& selection : quote->pcr_selections) {
    for (unsigned pcr : selection.pcrs) {
      if (pcr >= 64) std::abort();  // at most 8 selection bytes
    }
  }
  (void)sink;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  lunal::ByteSpan input(data, size);
  CheckHcl(input);
  CheckTpm(input);
  auto evidence = azure::DecodeAzureEvidence(input);
  if (evidence.ok()) {
    (void)azure::ContainerName(evidence->container);
    CheckHcl(evidence->hcl_report);
    if (evidence->tpm_quote) CheckTpm(evidence->tpm_quote->message);
  }
  return 0;
}
