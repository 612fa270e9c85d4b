// What the simulated TDX platform reports: the fixed identity and TCB of the "platform" that
// sim-tdx quotes describe and that the simulated collateral (SimulationRoot::Collateral) rates
// UpToDate. One source of truth for the quote generator, the PCK certificate and the TCB Info;
// values and their real-world counterparts: docs/formats/sim-tdx.md "The simulated platform".
//
// Nothing here is secret and nothing here is trusted: a verifier trusts a sim quote only through
// the pinned simulation root.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace lunal::attest::sim {

// FMSPC (Intel: family-model-stepping-platform-custom SKU, 6 bytes): the ASCII bytes "LUNAL" and a
// zero, so that no real TCB Info can ever match it (Intel's start with 00, 20, 30, 50, 90, b0, c0).
inline constexpr std::array<std::uint8_t, 6> kFmspc = {0x4c, 0x55, 0x4e, 0x41, 0x4c, 0x00};
// PCE-ID: 0000, as on every Intel platform.
inline constexpr std::array<std::uint8_t, 2> kPceId = {0x00, 0x00};
// The PCK certificate's SGX TCB: 16 component SVNs (also its CPUSVN, as on real platforms) and
// the PCESVN.
inline constexpr std::array<std::uint8_t, 16> kSgxTcbComponents = {3, 3, 2, 2, 4, 1, 0, 3,
                                                                   0, 0, 0, 0, 0, 0, 0, 0};
inline constexpr std::uint16_t kPceSvn = 13;
// TEE_TCB_SVN: TDX module SVN 5, module major version 1 (so the TCB Info's "TDX_01" module
// identity applies), TDX late microcode update SVN 2.
inline constexpr std::array<std::uint8_t, 16> kTeeTcbSvn = {5, 1, 2, 0, 0, 0, 0, 0,
                                                            0, 0, 0, 0, 0, 0, 0, 0};
// TD_ATTRIBUTES: SEPT_VE_DISABLE (bit 28) only; never DEBUG (bit 0).
inline constexpr std::uint64_t kTdAttributes = std::uint64_t{1} << 28;
// XFAM: x87, SSE, AVX, AVX-512 (opmask, ZMM_Hi256, Hi16_ZMM), PKRU, AMX (the value Linux TDs
// commonly run with).
inline constexpr std::uint64_t kXfam = 0x0000000000061ae7;
// The simulated TD Quoting Enclave: Intel's TD QE product id, its ISVSVN, and the QE identity's
// ATTRIBUTES (INIT | MODE64BIT, then XFRM, which the identity's mask ignores).
inline constexpr std::uint16_t kQeIsvProdId = 2;
inline constexpr std::uint16_t kQeIsvSvn = 4;
inline constexpr std::array<std::uint8_t, 16> kQeAttributes = {0x11, 0, 0, 0, 0, 0, 0, 0,
                                                               0xe7, 0, 0, 0, 0, 0, 0, 0};
// The QE authentication data Intel's QE emits: the 32 bytes 00 01 … 1f.
inline constexpr std::size_t kQeAuthDataSize = 32;
// tcbEvaluationDataNumber of the simulated TCB Info and QE identity.
inline constexpr std::uint32_t kTcbEvaluationDataNumber = 1;
// tcbDate of every simulated TCB level.
inline constexpr std::string_view kTcbDate = "2025-01-01T00:00:00Z";

// Inputs of the simulated measurements that are not caller-provided (SHA-384 / SHA-256 of these
// ASCII strings): MR_SEAM (the "TDX module"), the QE's MRENCLAVE and MRSIGNER.
inline constexpr std::string_view kMrSeamSeed = "Lunal simulated TDX module";
inline constexpr std::string_view kQeMrEnclaveSeed = "Lunal simulated TD Quoting Enclave";
inline constexpr std::string_view kQeMrSignerSeed = "Lunal simulated TD Quoting Enclave signer";

}  // namespace lunal::attest::sim
