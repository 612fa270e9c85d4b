// The vTPM quote: a TPMS_ATTEST structure of type TPM_ST_ATTEST_QUOTE, as TPM2_Quote returns it
// (TPM 2.0 Library, Part 2 "Structures": TPMS_ATTEST, TPMS_CLOCK_INFO, TPMS_QUOTE_INFO,
// TPML_PCR_SELECTION, TPMS_PCR_SELECTION; Part 3 "Commands": TPM2_Quote). Integers big-endian.
//
//   magic u32 = TPM_GENERATED_VALUE (0xff544347)   type u16 = TPM_ST_ATTEST_QUOTE (0x8018)
//   qualifiedSigner TPM2B_NAME                     extraData TPM2B_DATA (the verifier's nonce)
//   clockInfo { clock u64, resetCount u32, restartCount u32, safe u8 }
//   firmwareVersion u64
//   attested.quote { pcrSelect TPML_PCR_SELECTION { count u32, { hash u16, sizeofSelect u8,
//                    pcrSelect[sizeofSelect] }... }, pcrDigest TPM2B_DIGEST }
//
// The magic matters: a TPM signs TPM_GENERATED_VALUE only over structures it produced itself,
// so an attestation key cannot be made to sign a look-alike from outside (Part 1, "Attestation").
// Parsing is strict: wrong magic or type, lengths beyond the buffer and trailing bytes fail.
//
// Errors (kMalformed): azure.tpm.magic, azure.tpm.type, azure.tpm.<field>.truncated,
// azure.tpm.trailing_bytes, azure.tpm.pcr_select (more than 8 selection bytes or 16 banks).
//
// Views borrow the input. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <vector>

#include "lunal/common/bytes.h"
#include "lunal/common/result.h"

namespace lunal::attest::azure {

inline constexpr std::uint32_t kTpmGeneratedValue = 0xff544347;
inline constexpr std::uint16_t kTpmStAttestQuote = 0x8018;
inline constexpr std::uint16_t kTpmAlgSha256 = 0x000B;  // TCG Algorithm Registry
inline constexpr std::size_t kPcrCount = 24;            // PC Client platform PCRs 0..23

struct PcrSelection {
  std::uint16_t hash_alg = 0;
  std::vector<unsigned> pcrs;  // selected indices, ascending
};

struct TpmQuoteView {
  ByteSpan qualified_signer;  // TPM2B_NAME contents
  ByteSpan extra_data;        // TPM2B_DATA contents: the nonce the quote was asked for
  std::uint64_t clock = 0;
  std::uint32_t reset_count = 0, restart_count = 0;
  bool safe = false;
  std::uint64_t firmware_version = 0;
  std::vector<PcrSelection> pcr_selections;
  ByteSpan pcr_digest;  // TPM2B_DIGEST contents
};

Result<TpmQuoteView> ParseTpmQuote(ByteSpan attest);

}  // namespace lunal::attest::azure
