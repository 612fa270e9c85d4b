// VerifyAzure: Azure confidential-VM evidence (SEV-SNP or TDX behind Azure's paravisor and vTPM)
// as one numbered pipeline (verify.cc), offline, as of a stated time.
//
// What "verified" means, in order:
//   1. The HCL report parses (hcl_report.h) and names the TEE the container claims.
//   2. The hardware evidence verifies with the TEE's own verifier, unchanged:
//        SNP: the HCL report's SNP report, under the VCEK (snp::VerifyReport);
//        TDX: the TD quote beside it, under the collateral pool (tdx::Verifier);
//      and, for TDX, the HCL report's TDREPORT repeats that quote's REPORT_DATA and TD fields
//      (the TDREPORT itself is MACed for its own machine only, so the quote is the proof).
//   3. Runtime binding: the verified REPORT_DATA equals hash_type(runtime JSON) followed by zero
//      bytes, over the exact runtime bytes in the HCL report: the runtime JSON, and with it the
//      vTPM's attestation key, comes from the attested VM.
//   4. vTPM quote (when the container carries one): TPMS_ATTEST parses, is signed by that
//      attestation key (RSASSA-PKCS1-v1_5, SHA-256), selects only the SHA-256 bank, and its
//      pcrDigest equals SHA-256 over the given PCR values of the selected PCRs in index order;
//      extraData equals the expected nonce when one is given.
// The result then carries the hardware record plus the PCR values, the nonce and the VM
// configuration the runtime data states. Judging those (debug, secure boot, PCR references)
// is policy's job.
//
// Not checked: the TPM2B_NAME of the signer (it would need the AK's TPMT_PUBLIC, which Azure's
// evidence does not carry; the key itself is bound in step 3), the TDREPORT MAC.
//
// Errors (stable reasons; the first failing step decides): hcl_report.h's azure.hcl.* and
// azure.runtime.*; snp::VerifyReport's and tdx::Verifier's reasons unchanged;
// kMalformed azure.container.tee_mismatch (the container says SNP, the HCL report TDX, or the
// reverse), azure.tdx.missing_quote; kVerificationFailed azure.tdreport.mismatch (naming the
// field), azure.binding.mismatch, azure.tpm.signature_invalid, azure.tpm.pcr_digest_mismatch,
// azure.tpm.nonce_mismatch; kUnsupported azure.tpm.bank (a bank other than SHA-256);
// kMalformed azure.tpm.* (tpm_quote.h), azure.tpm.pcr_value (a PCR value not 32 bytes, or not
// 24 of them), azure.runtime.bad_ak (the JWK is not a usable RSA key);
// kInvalidArgument azure.options.no_collateral (TDX evidence without a TDX verifier).
//
// Thread-safety: VerifyAzure is a pure function of its arguments (the TDX verifier is
// thread-safe).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "lunal/attest/azure/evidence_input.h"
#include "lunal/attest/azure/hcl_report.h"
#include "lunal/attest/snp/verify.h"
#include "lunal/attest/tdx/verify.h"
#include "lunal/common/bytes.h"
#include "lunal/common/json.h"
#include "lunal/common/result.h"
#include "lunal/common/time.h"

namespace lunal::attest::azure {

struct VerifyOptions {
  Timestamp as_of;  // required
  // SNP: the VCEK when the container carries none (or to override it).
  std::optional<Bytes> signing_cert = std::nullopt;
  // TDX: the verifier of the nested TD quote (with its collateral pool and anchors).
  const tdx::Verifier* tdx_verifier = nullptr;
  // When set, the vTPM quote's extraData must equal these bytes (and a quote must be present).
  std::optional<Bytes> expected_nonce = std::nullopt;
};

struct VtpmQuoteClaims {
  Bytes nonce;  // extraData
  std::vector<unsigned> selected_pcrs;
  std::vector<Bytes> pcrs;  // all given values, index order (only selected ones are attested)
  Bytes pcr_digest;
  std::uint64_t clock = 0, firmware_version = 0;
  std::uint32_t reset_count = 0, restart_count = 0;
};

struct AzureVerification {
  Container container = Container::kHclReport;
  HclReportType tee = HclReportType::kSnp;
  std::optional<snp::SnpVerification> snp;
  std::optional<tdx::TdxVerification> tdx;
  std::uint32_t hcl_version = 0;
  HclHashType hash_type = HclHashType::kSha256;
  Bytes runtime_data_digest;           // hash_type(runtime JSON): the bound prefix of REPORT_DATA
  std::string attestation_key_sha256;  // SHA-256 of the AK's SubjectPublicKeyInfo, hex
  int attestation_key_bits = 0;
  Json vm_configuration = Json::object();
  std::string user_data;
  std::optional<VtpmQuoteClaims> vtpm;  // absent for a bare HCL report

  // The hardware record's "tee"/"measurements"/"platform_verification", with "tee.platform"
  // "azure" and an "azure" object: runtime binding, vTPM quote, VM configuration.
  Json ToJson() const;
};

Result<AzureVerification> VerifyAzure(const AzureEvidence& evidence, const VerifyOptions& options);

// REPORT_DATA as the HCL writes it: the runtime data's digest under `hash_type`, then zeros.
Bytes ExpectedReportData(HclHashType hash_type, ByteSpan runtime_data);

}  // namespace lunal::attest::azure
