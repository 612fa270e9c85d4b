// The simulated QE: a TDX v4 quote in Intel's byte format. Sources: Intel TDX DCAP Quoting
// Library API, appendix "Quote Format" (header, TD quote body, ECDSA 256-bit quote signature
// data, QE certification data); Intel SGX SDK sgx_report_body_t (the QE report). Offsets:
// tdx/quote_layout.h (the parser's own table, so the writer and the reader cannot drift apart).
#include "sim_quote.h"

#include <algorithm>

#include "lunal/attest/sim/platform.h"
#include "lunal/attest/tdx/quote_layout.h"
#include "lunal/crypto/digest.h"

namespace lunal::attest::sim::internal {
namespace {

namespace layout = tdx::layout;
using layout::Field;

void AppendU16(Bytes& out, std::uint16_t v) {
  out.push_back(static_cast<std::uint8_t>(v));
  out.push_back(static_cast<std::uint8_t>(v >> 8));
}

void AppendU32(Bytes& out, std::uint32_t v) {
  for (int shift = 0; shift < 32; shift += 8) out.push_back(static_cast<std::uint8_t>(v >> shift));
}

void Append(Bytes& out, ByteSpan bytes) { out.insert(out.end(), bytes.begin(), bytes.end()); }

// Little-endian bytes of an integer field.
Bytes Le(std::uint64_t value, std::size_t size) {
  Bytes out(size);
  for (std::size_t i = 0; i < size; ++i) out[i] = static_cast<std::uint8_t>(value >> (8 * i));
  return out;
}

// Writes `value` into field `f` of the structure at `base` in `out`. An empty value leaves the
// field zero; any other size that is not the field's is our bug.
Status Put(Bytes& out, std::size_t base, Field f, ByteSpan value, std::string_view name) {
  if (value.empty()) return Status::Ok();
  if (value.size() != f.size || base + f.end() > out.size()) {
    return Internal("sim.quote.bad_field", "{}: {} bytes for a {}-byte field", name, value.size(),
                    f.size);
  }
  std::copy(value.begin(), value.end(), out.begin() + static_cast<std::ptrdiff_t>(base + f.offset));
  return Status::Ok();
}

// 1. Header (48 bytes) [QL "Quote Header"].
Status PutHeader(Bytes& quote, ByteSpan user_data) {
  namespace h = layout::header;
  LUNAL_RETURN_IF_ERROR(Put(quote, 0, h::kVersion, Le(layout::kVersion4, 2), "version"));
  LUNAL_RETURN_IF_ERROR(
      Put(quote, 0, h::kAttKeyType, Le(layout::kAttKeyTypeEcdsaP256, 2), "att_key_type"));
  LUNAL_RETURN_IF_ERROR(Put(quote, 0, h::kTeeType, Le(layout::kTeeTypeTdx, 4), "tee_type"));
  // qe_svn, pce_svn: reserved in TDX quotes, zero as in Intel's.
  LUNAL_RETURN_IF_ERROR(Put(quote, 0, h::kQeVendorId, layout::kIntelQeVendorId, "qe_vendor_id"));
  return Put(quote, 0, h::kUserData, user_data, "user_data");
}

// 2. TD quote body, TD1.0 (584 bytes) [QL "TD Quote Body"].
Status PutBody(Bytes& quote, const TdMeasurements& td) {
  namespace b = layout::body;
  const std::size_t at = layout::quote_v4::kBodyOffset;
  const auto mr_seam = crypto::Sha384(AsBytes(kMrSeamSeed));
  LUNAL_RETURN_IF_ERROR(Put(quote, at, b::kTeeTcbSvn, kTeeTcbSvn, "tee_tcb_svn"));
  LUNAL_RETURN_IF_ERROR(Put(quote, at, b::kMrSeam, mr_seam, "mr_seam"));
  // mr_signer_seam and seam_attributes: zero, as for Intel's own TDX modules.
  LUNAL_RETURN_IF_ERROR(Put(quote, at, b::kTdAttributes, Le(td.td_attributes, 8), "td_attributes"));
  LUNAL_RETURN_IF_ERROR(Put(quote, at, b::kXfam, Le(kXfam, 8), "xfam"));
  LUNAL_RETURN_IF_ERROR(Put(quote, at, b::kMrTd, td.mr_td, "mr_td"));
  LUNAL_RETURN_IF_ERROR(Put(quote, at, b::kMrConfigId, td.mr_config_id, "mr_config_id"));
  LUNAL_RETURN_IF_ERROR(Put(quote, at, b::kMrOwner, td.mr_owner, "mr_owner"));
  LUNAL_RETURN_IF_ERROR(Put(quote, at, b::kMrOwnerConfig, td.mr_owner_config, "mr_owner_config"));
  const Field rtmr_fields[] = {b::kRtmr0, b::kRtmr1, b::kRtmr2, b::kRtmr3};
  for (std::size_t i = 0; i < 4; ++i) {
    LUNAL_RETURN_IF_ERROR(Put(quote, at, rtmr_fields[i], td.rtmr[i], "rtmr"));
  }
  if (td.report_data.size() != b::kReportData.size) {
    return Internal("sim.quote.bad_field", "report_data: {} bytes", td.report_data.size());
  }
  return Put(quote, at, b::kReportData, td.report_data, "report_data");
}

// 3. The QE report (an SGX REPORTBODY, 384 bytes) [SDK sgx_report_body_t]: the simulated QE's
// identity, and report_data[0:32] = SHA-256(attestation key ‖ QE auth data), [32:64] zero.
Result<Bytes> QeReport(const SimulationRoot& root, ByteSpan auth_data) {
  namespace q = layout::qe_report;
  Bytes report(q::kSize, 0);
  crypto::Hasher binding(crypto::DigestAlgorithm::kSha256);
  binding.Update(root.attestation_public_key());
  binding.Update(auth_data);
  Bytes report_data = binding.Finish();
  report_data.resize(q::kReportData.size, 0);
  const auto mr_enclave = crypto::Sha256(AsBytes(kQeMrEnclaveSeed));
  const auto mr_signer = crypto::Sha256(AsBytes(kQeMrSignerSeed));
  LUNAL_RETURN_IF_ERROR(Put(report, 0, q::kCpuSvn, kSgxTcbComponents, "cpu_svn"));
  // misc_select: zero.
  LUNAL_RETURN_IF_ERROR(Put(report, 0, q::kAttributes, kQeAttributes, "attributes"));
  LUNAL_RETURN_IF_ERROR(Put(report, 0, q::kMrEnclave, mr_enclave, "mr_enclave"));
  LUNAL_RETURN_IF_ERROR(Put(report, 0, q::kMrSigner, mr_signer, "mr_signer"));
  LUNAL_RETURN_IF_ERROR(Put(report, 0, q::kIsvProdId, Le(kQeIsvProdId, 2), "isv_prod_id"));
  LUNAL_RETURN_IF_ERROR(Put(report, 0, q::kIsvSvn, Le(kQeIsvSvn, 2), "isv_svn"));
  LUNAL_RETURN_IF_ERROR(Put(report, 0, q::kReportData, report_data, "report_data"));
  return report;
}

}  // namespace

Result<Bytes> BuildQuote(const SimulationRoot& root, const TdMeasurements& td) {
  // Header and body: the signed region.
  Bytes quote(layout::quote_v4::kSignatureDataLenOffset, 0);
  // user_data: Intel's QE writes a platform identifier (16 bytes) and zeros; ours is derived
  // from the PCK's PPID so that it is stable per installation and reveals nothing.
  const auto ppid_digest = crypto::Sha256(root.pck_extensions().ppid);
  Bytes user_data(layout::header::kUserData.size, 0);
  std::copy_n(ppid_digest.begin(), 16, user_data.begin());
  LUNAL_RETURN_IF_ERROR(PutHeader(quote, user_data));
  LUNAL_RETURN_IF_ERROR(PutBody(quote, td));
  LUNAL_ASSIGN_OR_RETURN(Bytes signature, root.SignQuote(quote));

  // Certification data type 6 [QL "QE Report Certification Data"]: QE report, its signature by
  // the PCK key, QE authentication data (u16 size + bytes), certification data type 5.
  Bytes auth_data(kQeAuthDataSize);
  for (std::size_t i = 0; i < auth_data.size(); ++i) auth_data[i] = static_cast<std::uint8_t>(i);
  LUNAL_ASSIGN_OR_RETURN(Bytes qe_report, QeReport(root, auth_data));
  LUNAL_ASSIGN_OR_RETURN(Bytes qe_report_signature, root.SignQeReport(qe_report));
  const std::string& chain = root.pck_chain_data();
  Bytes qe_cert_data;
  Append(qe_cert_data, qe_report);
  Append(qe_cert_data, qe_report_signature);
  AppendU16(qe_cert_data, static_cast<std::uint16_t>(auth_data.size()));
  Append(qe_cert_data, auth_data);
  AppendU16(qe_cert_data, layout::kCertDataTypePckCertChain);
  AppendU32(qe_cert_data, static_cast<std::uint32_t>(chain.size()));
  Append(qe_cert_data, AsBytes(chain));

  // ECDSA 256-bit quote signature data [QL]: signature, attestation key, certification data.
  Bytes signature_data;
  Append(signature_data, signature);
  Append(signature_data, root.attestation_public_key());
  AppendU16(signature_data, layout::kCertDataTypeQeReport);
  AppendU32(signature_data, static_cast<std::uint32_t>(qe_cert_data.size()));
  Append(signature_data, qe_cert_data);

  AppendU32(quote, static_cast<std::uint32_t>(signature_data.size()));
  Append(quote, signature_data);
  return quote;
}

}  // namespace lunal::attest::sim::internal
