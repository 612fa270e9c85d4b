// VerifyAzure: the numbered pipeline of verify.h. Each step returns the reason of the first thing
// that failed; nothing after a failed step runs.
#include "lunal/attest/azure/verify.h"

#include <fmt/format.h>

#include <algorithm>
#include <functional>

#include "lunal/attest/azure/tpm_quote.h"
#include "lunal/common/encoding.h"
#include "lunal/crypto/digest.h"
#include "lunal/crypto/keys.h"
#include "lunal/crypto/signature.h"

namespace lunal::attest::azure {
namespace {

bool Equal(ByteSpan a, ByteSpan b) { return std::ranges::equal(a, b); }

crypto::DigestAlgorithm DigestOf(HclHashType type) {
  switch (type) {
    case HclHashType::kSha256:
      return crypto::DigestAlgorithm::kSha256;
    case HclHashType::kSha384:
      return crypto::DigestAlgorithm::kSha384;
    case HclHashType::kSha512:
      return crypto::DigestAlgorithm::kSha512;
  }
  return crypto::DigestAlgorithm::kSha256;
}

// Step 2 (TDX): every TD field the HCL's TDREPORT holds must be the quote's.
Status CheckTdReport(const tdx::TdReportView& report, const tdx::TdxVerification& quote) {
  struct Pair {
    std::string_view name;
    ByteSpan in_report;
    ByteSpan in_quote;
  };
  const Pair pairs[] = {
      {"report_data", report.report_data, quote.report_data},
      {"tee_tcb_svn", report.tee_tcb_svn, quote.tee_tcb_svn},
      {"mr_seam", report.mr_seam, quote.mr_seam},
      {"mr_signer_seam", report.mr_signer_seam, quote.mr_signer_seam},
      {"seam_attributes", report.seam_attributes, quote.seam_attributes},
      {"xfam", report.xfam, quote.xfam},
      {"mr_td", report.mr_td, quote.mr_td},
      {"mr_config_id", report.mr_config_id, quote.mr_config_id},
      {"mr_owner", report.mr_owner, quote.mr_owner},
      {"mr_owner_config", report.mr_owner_config, quote.mr_owner_config},
      {"rtmr0", report.rtmr[0], quote.rtmr[0]},
      {"rtmr1", report.rtmr[1], quote.rtmr[1]},
      {"rtmr2", report.rtmr[2], quote.rtmr[2]},
      {"rtmr3", report.rtmr[3], quote.rtmr[3]},
  };
  for (const Pair& p : pairs) {
    if (!Equal(p.in_report, p.in_quote)) {
      return VerificationFailed("azure.tdreport.mismatch",
                                "the HCL report's TDREPORT {} differs from the TD quote's: the "
                                "two come from different TDs",
                                p.name);
    }
  }
  std::uint64_t attributes = 0;
  for (std::size_t i = 8; i-- > 0;) attributes = (attributes << 8) | report.td_attributes[i];
  if (attributes != quote.td_attributes) {
    return VerificationFailed("azure.tdreport.mismatch",
                              "the HCL report's TDREPORT td_attributes differ from the TD quote's");
  }
  return Status();
}

// Step 4: the vTPM quote under the attestation key bound in step 3.
Result<VtpmQuoteClaims> VerifyVtpmQuote(const TpmQuoteParts& parts, const crypto::PublicKey& ak,
                                        const VerifyOptions& options) {
  LUNAL_ASSIGN_OR_RETURN(TpmQuoteView quote, ParseTpmQuote(parts.message));
  Status signature =
      crypto::VerifyRsaPkcs1(ak, crypto::DigestAlgorithm::kSha256, parts.message, parts.signature);
  if (!signature.ok()) {
    return VerificationFailed("azure.tpm.signature_invalid",
                              "the vTPM quote is not signed by the HCL attestation key ({})",
                              signature.message());
  }
  if (parts.pcrs.size() != kPcrCount) {
    return Malformed("azure.tpm.pcr_value", "{} PCR values given, expected {}", parts.pcrs.size(),
                     kPcrCount);
  }
  for (std::size_t i = 0; i < parts.pcrs.size(); ++i) {
    if (parts.pcrs[i].size() != 32) {
      return Malformed("azure.tpm.pcr_value", "PCR {} has {} bytes, a SHA-256 PCR has 32", i,
                       parts.pcrs[i].size());
    }
  }
  VtpmQuoteClaims out;
  crypto::Hasher digest(crypto::DigestAlgorithm::kSha256);
  for (const PcrSelection& selection : quote.pcr_selections) {
    if (selection.hash_alg != kTpmAlgSha256) {
      return Unsupported("azure.tpm.bank",
                         "the vTPM quote selects PCR bank {:#06x}; only SHA-256 values are given",
                         selection.hash_alg);
    }
    for (unsigned index : selection.pcrs) {
      if (index >= kPcrCount) {
        return Malformed("azure.tpm.pcr_value", "PCR {} is selected; only 0..23 exist", index);
      }
      digest.Update(parts.pcrs[index]);
      out.selected_pcrs.push_back(index);
    }
  }
  Bytes computed = digest.Finish();
  if (!Equal(computed, quote.pcr_digest)) {
    return VerificationFailed("azure.tpm.pcr_digest_mismatch",
                              "the PCR values given hash to {}, the vTPM quote attests {}",
                              HexEncode(computed), HexEncode(quote.pcr_digest));
  }
  if (options.expected_nonce && !Equal(*options.expected_nonce, quote.extra_data)) {
    return VerificationFailed("azure.tpm.nonce_mismatch",
                              "the vTPM quote's nonce is {}, expected {}",
                              HexEncode(quote.extra_data), HexEncode(*options.expected_nonce));
  }
  out.nonce.assign(quote.extra_data.begin(), quote.extra_data.end());
  out.pcrs = parts.pcrs;
  out.pcr_digest = std::move(computed);
  out.clock = quote.clock;
  out.firmware_version = quote.firmware_version;
  out.reset_count = quote.reset_count;
  out.restart_count = quote.restart_count;
  return out;
}

}  // namespace

Bytes ExpectedReportData(HclHashType hash_type, ByteSpan runtime_data) {
  Bytes out = crypto::Digest(DigestOf(hash_type), runtime_data);
  out.resize(64, 0);
  return out;
}

Result<AzureVerification> VerifyAzure(const AzureEvidence& evidence, const VerifyOptions& options) {
  AzureVerification out;
  out.container = evidence.container;

  // 1. The HCL report, and the TEE it wraps.
  LUNAL_ASSIGN_OR_RETURN(HclReportView hcl, ParseHclReport(evidence.hcl_report));
  if (hcl.report_type != evidence.tee) {
    return Malformed("azure.container.tee_mismatch",
                     "the container holds {} evidence but its HCL report wraps a {} report",
                     HclReportTypeName(evidence.tee), HclReportTypeName(hcl.report_type));
  }
  out.tee = hcl.report_type;
  out.hcl_version = hcl.version;
  out.hash_type = hcl.hash_type;
  LUNAL_ASSIGN_OR_RETURN(RuntimeData runtime, ParseRuntimeData(hcl.runtime_data));

  // 2. The hardware evidence, by the TEE's own verifier.
  ByteSpan report_data;
  if (hcl.report_type == HclReportType::kSnp) {
    snp::VerifyOptions snp_options{.as_of = options.as_of};
    snp_options.signing_cert = options.signing_cert ? options.signing_cert : evidence.vcek;
    LUNAL_ASSIGN_OR_RETURN(out.snp, snp::VerifyReport(hcl.hw_report, snp_options));
    report_data = out.snp->report_data;
  } else {
    if (!evidence.td_quote) {
      return Malformed("azure.tdx.missing_quote",
                       "TDX evidence needs the TD quote beside the HCL report; a bare HCL report "
                       "holds only a TDREPORT, which proves nothing off its machine");
    }
    if (options.tdx_verifier == nullptr) {
      return InvalidArgument("azure.options.no_collateral",
                             "verifying the TD quote needs Intel collateral (a TDX verifier)");
    }
    LUNAL_ASSIGN_OR_RETURN(
        out.tdx, options.tdx_verifier->Verify(*evidence.td_quote,
                                              tdx::VerifyOptions{.as_of = options.as_of}));
    LUNAL_ASSIGN_OR_RETURN(tdx::TdReportView td_report, ParseHclTdReport(hcl.hw_report));
    LUNAL_RETURN_IF_ERROR(CheckTdReport(td_report, *out.tdx));
    report_data = out.tdx->report_data;
  }

  // 3. The runtime data is the VM's: REPORT_DATA = hash(runtime JSON) ‖ zeros.
  const Bytes expected = ExpectedReportData(hcl.hash_type, hcl.runtime_data);
  if (!Equal(expected, report_data)) {
    return VerificationFailed(
        "azure.binding.mismatch",
        "REPORT_DATA {} is not {} of the HCL runtime data followed by zeros ({}): the runtime "
        "data, and the vTPM key in it, are not bound to this {} report",
        HexEncode(report_data), HclHashTypeName(hcl.hash_type), HexEncode(expected),
        HclReportTypeName(hcl.report_type));
  }
  out.runtime_data_digest = crypto::Digest(DigestOf(hcl.hash_type), hcl.runtime_data);
  Result<crypto::PublicKey> ak = crypto::PublicKey::FromRsaModulusExponent(
      runtime.attestation_key.n, runtime.attestation_key.e);
  if (!ak.ok()) {
    return Malformed("azure.runtime.bad_ak", "HCLAkPub is not a usable RSA key: {}",
                     ak.error().message());
  }
  LUNAL_ASSIGN_OR_RETURN(Bytes spki, ak->ToSpkiDer());
  out.attestation_key_sha256 = HexEncode(crypto::Sha256(spki));
  out.attestation_key_bits = ak->Bits();
  out.vm_configuration = runtime.vm_configuration;
  out.user_data = runtime.user_data;

  // 4. The vTPM quote, signed by that key.
  if (evidence.tpm_quote) {
    LUNAL_ASSIGN_OR_RETURN(out.vtpm, VerifyVtpmQuote(*evidence.tpm_quote, *ak, options));
  } else if (options.expected_nonce) {
    return VerificationFailed("azure.tpm.nonce_mismatch",
                              "a nonce was expected but the evidence has no vTPM quote");
  }
  return out;
}

Json AzureVerification::ToJson() const {
  Json record = snp ? snp->ToJson() : tdx->ToJson();
  record["tee"]["platform"] = "azure";
  Json azure = {
      {"container", ContainerName(container)},
      {"hcl_report_version", hcl_version},
      {"runtime_data",
       {{"hash_type", HclHashTypeName(hash_type)},
        {"digest", HexEncode(runtime_data_digest)},
        {"bound_to_report_data", true},
        {"attestation_key_sha256", attestation_key_sha256},
        {"attestation_key_bits", attestation_key_bits},
        {"vm_configuration", vm_configuration},
        {"user_data", user_data}}},
  };
  if (vtpm) {
    Json pcrs = Json::object();
    for (unsigned index : vtpm->selected_pcrs) {
      pcrs[fmt::format("{}", index)] = HexEncode(vtpm->pcrs[index]);
    }
    azure["vtpm_quote"] = {{"verified", true},
                           {"nonce", HexEncode(vtpm->nonce)},
                           {"pcr_bank", "sha256"},
                           {"pcrs", pcrs},
                           {"pcr_digest", HexEncode(vtpm->pcr_digest)},
                           {"clock", vtpm->clock},
                           {"reset_count", vtpm->reset_count},
                           {"restart_count", vtpm->restart_count},
                           {"firmware_version", fmt::format("{:016x}", vtpm->firmware_version)}};
  } else {
    azure["vtpm_quote"] = nullptr;
  }
  record["azure"] = std::move(azure);
  return record;
}

}  // namespace lunal::attest::azure
