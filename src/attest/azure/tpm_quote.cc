// ParseTpmQuote: TPMS_ATTEST for TPM2_Quote (tpm_quote.h gives the structure and its source).
#include "lunal/attest/azure/tpm_quote.h"

#include "lunal/common/byte_reader.h"

namespace lunal::attest::azure {
namespace {

// A TPM2B: a big-endian u16 size, then that many bytes.
Result<ByteSpan> Tpm2b(ByteReader& r, std::string_view field) {
  LUNAL_ASSIGN_OR_RETURN(std::uint16_t size, r.U16Be(field));
  return r.Bytes(size, field);
}

// Part 2 bounds: a PC Client TPM has 24 PCRs (3 selection bytes); we accept up to 8 bytes (64
// PCRs) and 16 banks, which no real TPM exceeds, so a hostile count cannot make us loop long.
constexpr std::size_t kMaxSelectBytes = 8;
constexpr std::uint32_t kMaxBanks = 16;

}  // namespace

Result<TpmQuoteView> ParseTpmQuote(ByteSpan attest) {
  ByteReader r(attest);
  TpmQuoteView out;
  LUNAL_ASSIGN_OR_RETURN(std::uint32_t magic, r.U32Be("azure.tpm.magic"));
  if (magic != kTpmGeneratedValue) {
    return Malformed("azure.tpm.magic",
                     "TPMS_ATTEST magic {:#010x} is not TPM_GENERATED_VALUE (0xff544347): the TPM "
                     "did not produce this structure",
                     magic);
  }
  LUNAL_ASSIGN_OR_RETURN(std::uint16_t type, r.U16Be("azure.tpm.type"));
  if (type != kTpmStAttestQuote) {
    return Malformed("azure.tpm.type",
                     "TPMS_ATTEST type {:#06x} is not TPM_ST_ATTEST_QUOTE (0x8018)", type);
  }
  LUNAL_ASSIGN_OR_RETURN(out.qualified_signer, Tpm2b(r, "azure.tpm.qualified_signer"));
  LUNAL_ASSIGN_OR_RETURN(out.extra_data, Tpm2b(r, "azure.tpm.extra_data"));
  LUNAL_ASSIGN_OR_RETURN(out.clock, r.U64Be("azure.tpm.clock_info"));
  LUNAL_ASSIGN_OR_RETURN(out.reset_count, r.U32Be("azure.tpm.clock_info"));
  LUNAL_ASSIGN_OR_RETURN(out.restart_count, r.U32Be("azure.tpm.clock_info"));
  LUNAL_ASSIGN_OR_RETURN(std::uint8_t safe, r.U8("azure.tpm.clock_info"));
  if (safe > 1) {
    return Malformed("azure.tpm.clock_info", "clockInfo.safe is {}, not a TPMI_YES_NO", safe);
  }
  out.safe = safe == 1;
  LUNAL_ASSIGN_OR_RETURN(out.firmware_version, r.U64Be("azure.tpm.firmware_version"));
  LUNAL_ASSIGN_OR_RETURN(std::uint32_t banks, r.U32Be("azure.tpm.pcr_select"));
  if (banks > kMaxBanks) {
    return Malformed("azure.tpm.pcr_select", "{} PCR banks selected (at most {})", banks,
                     kMaxBanks);
  }
  for (std::uint32_t b = 0; b < banks; ++b) {
    PcrSelection selection;
    LUNAL_ASSIGN_OR_RETURN(selection.hash_alg, r.U16Be("azure.tpm.pcr_select"));
    LUNAL_ASSIGN_OR_RETURN(std::uint8_t size, r.U8("azure.tpm.pcr_select"));
    if (size > kMaxSelectBytes) {
      return Malformed("azure.tpm.pcr_select", "sizeofSelect {} exceeds {}", size, kMaxSelectBytes);
    }
    LUNAL_ASSIGN_OR_RETURN(ByteSpan bits, r.Bytes(size, "azure.tpm.pcr_select"));
    for (unsigned i = 0; i < bits.size() * 8u; ++i) {
      if ((bits[i / 8] >> (i % 8)) & 1u) selection.pcrs.push_back(i);
    }
    out.pcr_selections.push_back(std::move(selection));
  }
  LUNAL_ASSIGN_OR_RETURN(out.pcr_digest, Tpm2b(r, "azure.tpm.pcr_digest"));
  LUNAL_RETURN_IF_ERROR(r.ExpectEnd("azure.tpm"));
  return out;
}

}  // namespace lunal::attest::azure
