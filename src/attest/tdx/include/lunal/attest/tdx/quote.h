// Layer 2: the structure of an Intel TDX quote (v4 and v5, ECDSA-256 attestation key, QE report
// certification data wrapping a PEM PCK chain), as a view over the caller's bytes.
//
//   LUNAL_ASSIGN_OR_RETURN(QuoteView quote, ParseQuote(bytes));
//   HexEncode(quote.body.mr_td);  quote.body.td_attributes.debug();  quote.pck_cert_chain_pem;
//
// ParseQuote checks structure only: sizes, nested lengths, the supported versions and types, and
// that nothing but zero padding follows the quote. It verifies no signature, certificate, binding
// or collateral: that is the verifier's job (layer 3), which takes a QuoteView. Layout and the
// checks, with offsets: docs/formats/tdx-quote.md. Constants: quote_layout.h.
//
// Ownership and lifetime: a QuoteView BORROWS the buffer given to ParseQuote. Every span and
// string_view in it points into that buffer, which must outlive the view and not change.
// Thread-safety: a QuoteView is an immutable value; share it freely between threads.
//
// Errors (lunal::Status reasons, stable):
//   kMalformed   <field>.truncated for every structure that does not fit its container:
//                tdx.header, tdx.body_descriptor, tdx.body, tdx.signature_data_len,
//                tdx.signature_data, tdx.quote_signature, tdx.attestation_key,
//                tdx.cert_data.header, tdx.cert_data, tdx.qe_report, tdx.qe_report_signature,
//                tdx.qe_auth_data.size, tdx.qe_auth_data, tdx.qe_cert_data.header,
//                tdx.qe_cert_data;
//                tdx.body.size_mismatch (v5 body size differs from its type's size);
//                tdx.signature_data.trailing_bytes, tdx.cert_data.trailing_bytes (a length field
//                claims more than its contents use);
//                tdx.pck_cert_chain.embedded_nul (a NUL inside the PEM text);
//                tdx.quote.trailing_bytes (a non-zero byte after the quote's declared end).
//   kUnsupported tdx.header.unsupported_version (not 4 or 5), tdx.header.unsupported_key_type
//                (not ECDSA-256), tdx.header.not_tdx (TEE type not 0x81, e.g. an SGX quote),
//                tdx.body.unsupported_type (v5 body type not 2 or 3),
//                tdx.cert_data.unsupported_type (not 6), tdx.qe_cert_data.unsupported_type
//                (not 5).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lunal/attest/layout.h"  // FixedSpan
#include "lunal/common/bytes.h"
#include "lunal/common/result.h"

namespace lunal::attest::tdx {

using Measurement = FixedSpan<48>;  // SHA-384: MRTD, RTMRs, MR_SEAM, ...

enum class BodyType : std::uint16_t {
  kTd10 = 2,  // TD report for TDX 1.0, 584 bytes (every v4 quote; v5 body type 2)
  kTd15 = 3,  // TD report for TDX 1.5, 648 bytes (v5 body type 3)
};
// "TD1.0" or "TD1.5".
std::string_view BodyTypeName(BodyType type);

// The 48-byte quote header.
struct QuoteHeader {
  ByteSpan raw;
  std::uint16_t version;       // 4 or 5
  std::uint16_t att_key_type;  // 2 (ECDSA-256-with-P-256)
  std::uint32_t tee_type;      // 0x81 (TDX)
  // Reserved for TDX (Intel's v4 header has one reserved u32 here); the SGX v3 layout had the QE
  // and PCE SVNs in these positions. Not checked; the QE's SVN that matters is qe_report.isv_svn.
  std::uint16_t qe_svn;
  std::uint16_t pce_svn;
  FixedSpan<16> qe_vendor_id;  // layout::kIntelQeVendorId for Intel's QE (checked by the verifier)
  FixedSpan<20> user_data;     // set by the quote generator (Intel's: a platform id); opaque
};

// TD_ATTRIBUTES (TDX Module ABI, TDATTRIBUTES): the 8 bytes and their little-endian value.
struct TdAttributes {
  FixedSpan<8> raw;
  std::uint64_t bits;

  bool Bit(unsigned n) const { return n < 64 && ((bits >> n) & 1u) != 0; }
  bool debug() const;            // bit 0: the TD is debuggable; its memory is not private
  bool sept_ve_disable() const;  // bit 28: EPT violations are not converted to #VE
  bool migratable() const;       // bit 29
  bool pks() const;              // bit 30: protection keys for supervisor pages
  bool kl() const;               // bit 31: Key Locker
  bool perfmon() const;          // bit 63: the TD may use the PMU
  // Names of the set bits, lowest first ("DEBUG", "SEPT_VE_DISABLE", ...); a set bit without a
  // name in the ABI spec appears as "BIT<n>", so nothing set is ever hidden.
  std::vector<std::string> FlagNames() const;
};

// The TD report body (TD1.0 or TD1.5): what the TDX module measured, as the quote signs it.
struct TdReportBody {
  BodyType type;
  ByteSpan raw;  // 584 or 648 bytes
  FixedSpan<16> tee_tcb_svn;
  Measurement mr_seam;
  Measurement mr_signer_seam;
  FixedSpan<8> seam_attributes;
  TdAttributes td_attributes;
  FixedSpan<8> xfam;
  Measurement mr_td;
  Measurement mr_config_id;
  Measurement mr_owner;
  Measurement mr_owner_config;
  std::array<Measurement, 4> rtmr;
  FixedSpan<64> report_data;
  // TD1.5 only (absent for TD1.0).
  std::optional<FixedSpan<16>> tee_tcb_svn_2;
  std::optional<Measurement> mr_service_td;
};

// The QE report: an SGX REPORTBODY (384 bytes) of Intel's TD Quoting Enclave.
struct QeReport {
  ByteSpan raw;  // the 384 bytes the QE report signature covers
  FixedSpan<16> cpu_svn;
  std::uint32_t misc_select;
  FixedSpan<16> isv_ext_prod_id;
  FixedSpan<16> attributes;
  FixedSpan<32> mr_enclave;
  FixedSpan<32> mr_signer;
  FixedSpan<64> config_id;
  std::uint16_t isv_prod_id;
  std::uint16_t isv_svn;
  std::uint16_t config_svn;
  FixedSpan<16> isv_family_id;
  // [0:32] = SHA-256(attestation_key ‖ qe_auth_data), [32:64] zero: checked by the verifier.
  FixedSpan<64> report_data;
  // The ranges the SGX SDK marks reserved (12, 32, 32 and 42 bytes), for must-be-zero policies.
  std::array<ByteSpan, 4> reserved;
};

struct QuoteView {
  ByteSpan quote;          // header through the end of the signature data (no padding)
  ByteSpan signed_region;  // header ‖ [v5 body descriptor] ‖ body: what `signature` signs
  ByteSpan trailing;       // bytes after the declared end: zero padding (or see ParseOptions)

  QuoteHeader header;
  TdReportBody body;

  std::uint32_t signature_data_len;
  FixedSpan<64> signature;        // ECDSA P-256 r‖s (big-endian) by the attestation key
  FixedSpan<64> attestation_key;  // P-256 public key x‖y (big-endian, no 0x04 prefix)

  // Certification data type 6: QE report certification data.
  ByteSpan qe_cert_data;  // all of it (QE report through the nested PEM chain)
  QeReport qe_report;
  FixedSpan<64> qe_report_signature;  // ECDSA P-256 r‖s over qe_report.raw by the PCK key
  ByteSpan qe_auth_data;

  // Nested certification data type 5: PCK certificate chain.
  ByteSpan pck_cert_chain_data;         // exactly `size` bytes, with any trailing NUL
  std::string_view pck_cert_chain_pem;  // the PEM text without trailing NULs
};

struct ParseOptions {
  // Bytes after the quote's declared end are accepted when they are all zero (buffers from
  // configfs, Azure IMDS and DCAP are padded). kIgnore also accepts non-zero ones, leaving them
  // in QuoteView::trailing: no signature covers them.
  enum class Trailing { kZeroOnly, kIgnore } trailing = Trailing::kZeroOnly;
};

// Parses a quote from the first byte of `bytes` (unwrap containers first: evidence_input.h).
Result<QuoteView> ParseQuote(ByteSpan bytes, const ParseOptions& options = {});

}  // namespace lunal::attest::tdx
