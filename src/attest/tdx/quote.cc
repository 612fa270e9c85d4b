// ParseQuote: a flat, numbered pipeline over the TDX quote layout (quote_layout.h,
// docs/formats/tdx-quote.md). Every byte is read through lunal::ByteReader; every fixed field is
// read through Take<Field>, which also proves that the reader stands at the field's layout offset.
//
//   0        48         48|54                 +4                      end of sig data
//   | header | [v5 desc] | TD report body      | sig len | signature data | zero padding
//   |<-------- signed_region --------------->|
//
//   signature data = signature(64) ‖ attestation key(64) ‖ cert data {type 6, size, data}
//   type 6 data    = QE report(384) ‖ QE report signature(64) ‖ auth size(u16) ‖ auth data
//                    ‖ cert data {type 5, size, PEM chain [+ NUL]}
#include "lunal/attest/tdx/quote.h"

#include <fmt/format.h>

#include "lunal/attest/tdx/quote_layout.h"
#include "lunal/common/byte_reader.h"

namespace lunal::attest::tdx {
namespace {

namespace L = layout;

std::size_t BodySize(BodyType type) {
  return type == BodyType::kTd15 ? L::body::kTd15Size : L::body::kTd10Size;
}

// The 48-byte header; no checks (those are step 1 of the pipeline).
Result<QuoteHeader> ReadHeader(ByteReader& outer) {
  LUNAL_ASSIGN_OR_RETURN(ByteReader r, outer.Sub(L::header::kSize, "tdx.header"));
  LUNAL_ASSIGN_OR_RETURN(ByteSpan raw, ByteReader(r).Bytes(L::header::kSize, "tdx.header"));
  LUNAL_ASSIGN_OR_RETURN(auto version, TakeU16<L::header::kVersion>(r, "tdx.header.version"));
  LUNAL_ASSIGN_OR_RETURN(auto key_type, TakeU16<L::header::kAttKeyType>(r, "tdx.header"));
  LUNAL_ASSIGN_OR_RETURN(auto tee_type, TakeU32<L::header::kTeeType>(r, "tdx.header"));
  LUNAL_ASSIGN_OR_RETURN(auto qe_svn, TakeU16<L::header::kQeSvn>(r, "tdx.header"));
  LUNAL_ASSIGN_OR_RETURN(auto pce_svn, TakeU16<L::header::kPceSvn>(r, "tdx.header"));
  LUNAL_ASSIGN_OR_RETURN(auto vendor, Take<L::header::kQeVendorId>(r, "tdx.header"));
  LUNAL_ASSIGN_OR_RETURN(auto user_data, Take<L::header::kUserData>(r, "tdx.header"));
  return QuoteHeader{.raw = raw,
                     .version = version,
                     .att_key_type = key_type,
                     .tee_type = tee_type,
                     .qe_svn = qe_svn,
                     .pce_svn = pce_svn,
                     .qe_vendor_id = vendor,
                     .user_data = user_data};
}

Status CheckHeader(const QuoteHeader& h) {
  if (h.version != L::kVersion4 && h.version != L::kVersion5) {
    return Unsupported("tdx.header.unsupported_version",
                       "quote version {} is not supported (TDX quotes are version 4 or 5)",
                       h.version);
  }
  if (h.att_key_type != L::kAttKeyTypeEcdsaP256) {
    return Unsupported("tdx.header.unsupported_key_type",
                       "attestation key type {} is not supported (2 = ECDSA-256-with-P-256)",
                       h.att_key_type);
  }
  if (h.tee_type != L::kTeeTypeTdx) {
    return Unsupported("tdx.header.not_tdx", "TEE type 0x{:02x} is not TDX (0x81){}", h.tee_type,
                       h.tee_type == L::kTeeTypeSgx ? ": this is an SGX quote" : "");
  }
  return Status();
}

// v4 bodies are TD1.0. v5 names the body's type and size in a descriptor; the size must be the
// type's size, so a body can never be read with the wrong layout.
Result<BodyType> ReadBodyType(ByteReader& outer, std::uint16_t version) {
  if (version == L::kVersion4) return BodyType::kTd10;
  LUNAL_ASSIGN_OR_RETURN(ByteReader r,
                         outer.Sub(L::body_descriptor::kTotal, "tdx.body_descriptor"));
  LUNAL_ASSIGN_OR_RETURN(auto type, TakeU16<L::body_descriptor::kType>(r, "tdx.body_descriptor"));
  LUNAL_ASSIGN_OR_RETURN(auto size, TakeU32<L::body_descriptor::kSize>(r, "tdx.body_descriptor"));
  if (type != L::kBodyTypeTd10 && type != L::kBodyTypeTd15) {
    return Unsupported("tdx.body.unsupported_type",
                       "quote body type {} is not supported (2 = TD1.0, 3 = TD1.5){}", type,
                       type == L::kBodyTypeSgx ? ": an SGX enclave report" : "");
  }
  const auto body_type = static_cast<BodyType>(type);
  if (size != BodySize(body_type)) {
    return Malformed("tdx.body.size_mismatch",
                     "body type {} ({}) must be {} bytes, descriptor says {}", type,
                     BodyTypeName(body_type), BodySize(body_type), size);
  }
  return body_type;
}

Result<TdAttributes> ReadTdAttributes(ByteReader& r) {
  LUNAL_ASSIGN_OR_RETURN(auto raw, Take<L::body::kTdAttributes>(r, "tdx.body.td_attributes"));
  LUNAL_ASSIGN_OR_RETURN(std::uint64_t bits, ByteReader(raw).U64Le("tdx.body.td_attributes"));
  return TdAttributes{.raw = raw, .bits = bits};
}

Result<TdReportBody> ReadBody(ByteReader& outer, BodyType type) {
  namespace B = L::body;
  LUNAL_ASSIGN_OR_RETURN(ByteReader r, outer.Sub(BodySize(type), "tdx.body"));
  LUNAL_ASSIGN_OR_RETURN(ByteSpan raw, ByteReader(r).Bytes(BodySize(type), "tdx.body"));
  LUNAL_ASSIGN_OR_RETURN(auto tee_tcb_svn, Take<B::kTeeTcbSvn>(r, "tdx.body.tee_tcb_svn"));
  LUNAL_ASSIGN_OR_RETURN(auto mr_seam, Take<B::kMrSeam>(r, "tdx.body.mr_seam"));
  LUNAL_ASSIGN_OR_RETURN(auto mr_signer_seam, Take<B::kMrSignerSeam>(r, "tdx.body"));
  LUNAL_ASSIGN_OR_RETURN(auto seam_attributes, Take<B::kSeamAttributes>(r, "tdx.body"));
  LUNAL_ASSIGN_OR_RETURN(TdAttributes td_attributes, ReadTdAttributes(r));
  LUNAL_ASSIGN_OR_RETURN(auto xfam, Take<B::kXfam>(r, "tdx.body.xfam"));
  LUNAL_ASSIGN_OR_RETURN(auto mr_td, Take<B::kMrTd>(r, "tdx.body.mr_td"));
  LUNAL_ASSIGN_OR_RETURN(auto mr_config_id, Take<B::kMrConfigId>(r, "tdx.body.mr_config_id"));
  LUNAL_ASSIGN_OR_RETURN(auto mr_owner, Take<B::kMrOwner>(r, "tdx.body.mr_owner"));
  LUNAL_ASSIGN_OR_RETURN(auto mr_owner_config, Take<B::kMrOwnerConfig>(r, "tdx.body"));
  LUNAL_ASSIGN_OR_RETURN(auto rtmr0, Take<B::kRtmr0>(r, "tdx.body.rtmr0"));
  LUNAL_ASSIGN_OR_RETURN(auto rtmr1, Take<B::kRtmr1>(r, "tdx.body.rtmr1"));
  LUNAL_ASSIGN_OR_RETURN(auto rtmr2, Take<B::kRtmr2>(r, "tdx.body.rtmr2"));
  LUNAL_ASSIGN_OR_RETURN(auto rtmr3, Take<B::kRtmr3>(r, "tdx.body.rtmr3"));
  LUNAL_ASSIGN_OR_RETURN(auto report_data, Take<B::kReportData>(r, "tdx.body.report_data"));
  TdReportBody body{.type = type,
                    .raw = raw,
                    .tee_tcb_svn = tee_tcb_svn,
                    .mr_seam = mr_seam,
                    .mr_signer_seam = mr_signer_seam,
                    .seam_attributes = seam_attributes,
                    .td_attributes = td_attributes,
                    .xfam = xfam,
                    .mr_td = mr_td,
                    .mr_config_id = mr_config_id,
                    .mr_owner = mr_owner,
                    .mr_owner_config = mr_owner_config,
                    .rtmr = {rtmr0, rtmr1, rtmr2, rtmr3},
                    .report_data = report_data,
                    .tee_tcb_svn_2 = {},
                    .mr_service_td = {}};
  if (type == BodyType::kTd15) {
    LUNAL_ASSIGN_OR_RETURN(body.tee_tcb_svn_2, Take<B::kTeeTcbSvn2>(r, "tdx.body.tee_tcb_svn_2"));
    LUNAL_ASSIGN_OR_RETURN(body.mr_service_td, Take<B::kMrServiceTd>(r, "tdx.body"));
  }
  LUNAL_RETURN_IF_ERROR(r.ExpectEnd("tdx.body"));
  return body;
}

// Certification data: {type u16, size u32, data[size]}. Checks the type before the size, so an
// unknown type is named as such even when its length is nonsense. Returns a reader over data.
Result<ByteReader> ReadCertData(ByteReader& outer, std::uint16_t want, const char* field) {
  LUNAL_ASSIGN_OR_RETURN(ByteReader h,
                         outer.Sub(L::cert_data::kHeaderSize, fmt::format("{}.header", field)));
  LUNAL_ASSIGN_OR_RETURN(auto type, TakeU16<L::cert_data::kType>(h, field));
  LUNAL_ASSIGN_OR_RETURN(auto size, TakeU32<L::cert_data::kSize>(h, field));
  if (type != want) {
    return Unsupported(fmt::format("{}.unsupported_type", field),
                       "{}: certification data type {} is not supported (expected {})", field, type,
                       want);
  }
  return outer.Sub(size, field);
}

Result<QeReport> ReadQeReport(ByteReader& outer) {
  namespace Q = L::qe_report;
  LUNAL_ASSIGN_OR_RETURN(ByteReader r, outer.Sub(Q::kSize, "tdx.qe_report"));
  LUNAL_ASSIGN_OR_RETURN(ByteSpan raw, ByteReader(r).Bytes(Q::kSize, "tdx.qe_report"));
  const char* f = "tdx.qe_report";
  LUNAL_ASSIGN_OR_RETURN(auto cpu_svn, Take<Q::kCpuSvn>(r, f));
  LUNAL_ASSIGN_OR_RETURN(auto misc_select, TakeU32<Q::kMiscSelect>(r, f));
  LUNAL_ASSIGN_OR_RETURN(auto reserved1, Take<Q::kReserved1>(r, f));
  LUNAL_ASSIGN_OR_RETURN(auto isv_ext_prod_id, Take<Q::kIsvExtProdId>(r, f));
  LUNAL_ASSIGN_OR_RETURN(auto attributes, Take<Q::kAttributes>(r, f));
  LUNAL_ASSIGN_OR_RETURN(auto mr_enclave, Take<Q::kMrEnclave>(r, f));
  LUNAL_ASSIGN_OR_RETURN(auto reserved2, Take<Q::kReserved2>(r, f));
  LUNAL_ASSIGN_OR_RETURN(auto mr_signer, Take<Q::kMrSigner>(r, f));
  LUNAL_ASSIGN_OR_RETURN(auto reserved3, Take<Q::kReserved3>(r, f));
  LUNAL_ASSIGN_OR_RETURN(auto config_id, Take<Q::kConfigId>(r, f));
  LUNAL_ASSIGN_OR_RETURN(auto isv_prod_id, TakeU16<Q::kIsvProdId>(r, f));
  LUNAL_ASSIGN_OR_RETURN(auto isv_svn, TakeU16<Q::kIsvSvn>(r, f));
  LUNAL_ASSIGN_OR_RETURN(auto config_svn, TakeU16<Q::kConfigSvn>(r, f));
  LUNAL_ASSIGN_OR_RETURN(auto reserved4, Take<Q::kReserved4>(r, f));
  LUNAL_ASSIGN_OR_RETURN(auto isv_family_id, Take<Q::kIsvFamilyId>(r, f));
  LUNAL_ASSIGN_OR_RETURN(auto report_data, Take<Q::kReportData>(r, f));
  LUNAL_RETURN_IF_ERROR(r.ExpectEnd(f));
  return QeReport{.raw = raw,
                  .cpu_svn = cpu_svn,
                  .misc_select = misc_select,
                  .isv_ext_prod_id = isv_ext_prod_id,
                  .attributes = attributes,
                  .mr_enclave = mr_enclave,
                  .mr_signer = mr_signer,
                  .config_id = config_id,
                  .isv_prod_id = isv_prod_id,
                  .isv_svn = isv_svn,
                  .config_svn = config_svn,
                  .isv_family_id = isv_family_id,
                  .report_data = report_data,
                  .reserved = {reserved1, reserved2, reserved3, reserved4}};
}

// The PEM text is the chain's bytes without trailing NULs (Intel's QE writes one; other quote
// generators none). A NUL inside the text would let C-string and length-based readers disagree.
Result<std::string_view> PemText(ByteSpan data) {
  std::string_view text = AsStringView(data);
  const std::size_t last = text.find_last_not_of('\0');
  text = last == std::string_view::npos ? std::string_view() : text.substr(0, last + 1);
  if (const std::size_t nul = text.find('\0'); nul != std::string_view::npos) {
    return Malformed("tdx.pck_cert_chain.embedded_nul",
                     "PCK certificate chain: NUL byte at position {} of {} inside the PEM text",
                     nul, data.size());
  }
  return text;
}

// Only zero padding may follow the quote, unless the caller opts out.
Status CheckTrailing(ByteReader tail, std::size_t quote_end, const ParseOptions& options) {
  if (options.trailing == ParseOptions::Trailing::kIgnore) return Status();
  const std::size_t n = tail.remaining();
  Status zero = tail.ExpectZero(n, "tdx.quote.padding");
  if (zero.ok()) return Status();
  return Malformed("tdx.quote.trailing_bytes",
                   "{} bytes follow the quote's declared end at offset {} and are not zero "
                   "padding ({})",
                   n, quote_end, zero.message());
}

}  // namespace

std::string_view BodyTypeName(BodyType type) { return type == BodyType::kTd15 ? "TD1.5" : "TD1.0"; }

Result<QuoteView> ParseQuote(ByteSpan bytes, const ParseOptions& options) {
  ByteReader r(bytes);
  // 1. Header: version 4 or 5, ECDSA-256 attestation key, TEE type TDX.
  LUNAL_ASSIGN_OR_RETURN(QuoteHeader header, ReadHeader(r));
  LUNAL_RETURN_IF_ERROR(CheckHeader(header));
  // 2. Body type: TD1.0 for v4; from the v5 body descriptor (type 2 or 3, size to match).
  LUNAL_ASSIGN_OR_RETURN(BodyType body_type, ReadBodyType(r, header.version));
  // 3. The TD report body.
  LUNAL_ASSIGN_OR_RETURN(TdReportBody body, ReadBody(r, body_type));
  // 4. Everything so far is what the attestation key signed.
  LUNAL_ASSIGN_OR_RETURN(ByteSpan signed_region, ByteReader(bytes).Bytes(r.position(), "tdx"));
  // 5. Signature data length; the signature data must fit in the buffer.
  LUNAL_ASSIGN_OR_RETURN(std::uint32_t sig_len, r.U32Le("tdx.signature_data_len"));
  const std::size_t sig_offset = r.position();
  LUNAL_ASSIGN_OR_RETURN(ByteReader sig, r.Sub(sig_len, "tdx.signature_data"));
  // 6. Quote signature (r‖s) and attestation public key (x‖y).
  namespace S = L::signature_data;
  LUNAL_ASSIGN_OR_RETURN(auto signature, Take<S::kSignature>(sig, "tdx.quote_signature"));
  LUNAL_ASSIGN_OR_RETURN(auto attestation_key,
                         Take<S::kAttestationKey>(sig, "tdx.attestation_key"));
  // 7. Certification data: type 6 (QE report certification data), ending the signature data.
  LUNAL_ASSIGN_OR_RETURN(ByteReader qe,
                         ReadCertData(sig, L::kCertDataTypeQeReport, "tdx.cert_data"));
  LUNAL_RETURN_IF_ERROR(sig.ExpectEnd("tdx.signature_data"));
  LUNAL_ASSIGN_OR_RETURN(ByteSpan qe_cert_data, ByteReader(qe).Bytes(qe.remaining(), "tdx"));
  // 8. QE report (384) and the PCK key's signature over it (64).
  LUNAL_ASSIGN_OR_RETURN(QeReport qe_report, ReadQeReport(qe));
  namespace C = L::qe_report_cert_data;
  LUNAL_ASSIGN_OR_RETURN(auto qe_report_signature,
                         Take<C::kQeReportSignature>(qe, "tdx.qe_report_signature"));
  // 9. QE authentication data: u16 size, then that many bytes.
  LUNAL_ASSIGN_OR_RETURN(std::uint16_t auth_size, qe.U16Le("tdx.qe_auth_data.size"));
  LUNAL_ASSIGN_OR_RETURN(ByteSpan qe_auth_data, qe.Bytes(auth_size, "tdx.qe_auth_data"));
  // 10. Nested certification data: type 5 (PEM PCK chain), ending the type 6 data.
  LUNAL_ASSIGN_OR_RETURN(ByteReader pck,
                         ReadCertData(qe, L::kCertDataTypePckCertChain, "tdx.qe_cert_data"));
  LUNAL_RETURN_IF_ERROR(qe.ExpectEnd("tdx.cert_data"));
  LUNAL_ASSIGN_OR_RETURN(ByteSpan pck_data, pck.Bytes(pck.remaining(), "tdx.qe_cert_data"));
  LUNAL_ASSIGN_OR_RETURN(std::string_view pem, PemText(pck_data));
  // 11. The quote ends here; only zero padding may follow.
  const std::size_t quote_end = sig_offset + sig_len;
  LUNAL_RETURN_IF_ERROR(CheckTrailing(r, quote_end, options));
  LUNAL_ASSIGN_OR_RETURN(ByteSpan quote, ByteReader(bytes).Bytes(quote_end, "tdx"));
  return QuoteView{.quote = quote,
                   .signed_region = signed_region,
                   .trailing = r.rest(),
                   .header = header,
                   .body = body,
                   .signature_data_len = sig_len,
                   .signature = signature,
                   .attestation_key = attestation_key,
                   .qe_cert_data = qe_cert_data,
                   .qe_report = qe_report,
                   .qe_report_signature = qe_report_signature,
                   .qe_auth_data = qe_auth_data,
                   .pck_cert_chain_data = pck_data,
                   .pck_cert_chain_pem = pem};
}

}  // namespace lunal::attest::tdx
