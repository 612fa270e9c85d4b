// TDREPORT_STRUCT: the report the TDX module gives a TD (TDG.MR.REPORT), before the quoting
// enclave turns it into a quote. Two places meet one: /dev/tdx_guest's TDX_CMD_GET_REPORT0
// (src/attest/attester) and Azure's HCL report for TDX VMs (src/attest/azure).
//
// Layout (Intel TDX Module ABI specification, TDREPORT_STRUCT, REPORTMACSTRUCT, TEE_TCB_INFO and
// TDINFO_STRUCT tables): 1024 = REPORTMACSTRUCT 256 + TEE_TCB_INFO 239 + reserved 17 +
// TDINFO 512; integers little-endian.
//
// A TDREPORT is MACed with a key only the TDX module of the same platform holds: its MAC can be
// checked there (TDG.MR.VERIFYREPORT) and nowhere else, so this parser reads structure only and
// a TDREPORT proves nothing off its machine. Its fields must equal those of a quote of the same
// TD, which is how Azure evidence ties the two together.
//
// Errors (kMalformed): tdx.tdreport.bad_size (not 1024 bytes), tdx.tdreport.bad_type
// (REPORTTYPE.TYPE not 0x81). Views borrow the input. Pure; thread-safe.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "lunal/attest/layout.h"
#include "lunal/common/bytes.h"
#include "lunal/common/result.h"

namespace lunal::attest::tdx {

namespace tdreport {
inline constexpr std::size_t kSize = 1024;
inline constexpr std::uint8_t kTypeTdx = 0x81;  // REPORTTYPE.TYPE: TDX
// REPORTMACSTRUCT
inline constexpr Field kReportType{0, 4};  // TYPE, SUBTYPE, VERSION, reserved
inline constexpr Field kReserved0{4, 12};
inline constexpr Field kCpuSvn{16, 16};
inline constexpr Field kTeeTcbInfoHash{32, 48};
inline constexpr Field kTeeInfoHash{80, 48};
inline constexpr Field kReportData{128, 64};
inline constexpr Field kReserved1{192, 32};
inline constexpr Field kMac{224, 32};
// TEE_TCB_INFO
inline constexpr Field kTcbValid{256, 8};
inline constexpr Field kTeeTcbSvn{264, 16};
inline constexpr Field kMrSeam{280, 48};
inline constexpr Field kMrSignerSeam{328, 48};
inline constexpr Field kSeamAttributes{376, 8};
inline constexpr Field kTeeTcbSvn2{384, 16};  // TDX 1.5
inline constexpr Field kTcbReserved{400, 95};
inline constexpr Field kReserved2{495, 17};
// TDINFO_STRUCT
inline constexpr Field kTdAttributes{512, 8};
inline constexpr Field kXfam{520, 8};
inline constexpr Field kMrTd{528, 48};
inline constexpr Field kMrConfigId{576, 48};
inline constexpr Field kMrOwner{624, 48};
inline constexpr Field kMrOwnerConfig{672, 48};
inline constexpr Field kRtmr0{720, 48};
inline constexpr Field kRtmr1{768, 48};
inline constexpr Field kRtmr2{816, 48};
inline constexpr Field kRtmr3{864, 48};
inline constexpr Field kServTdHash{912, 48};
inline constexpr Field kTdInfoReserved{960, 64};
static_assert(Tiles(kSize, kReportType, kReserved0, kCpuSvn, kTeeTcbInfoHash, kTeeInfoHash,
                    kReportData, kReserved1, kMac, kTcbValid, kTeeTcbSvn, kMrSeam, kMrSignerSeam,
                    kSeamAttributes, kTeeTcbSvn2, kTcbReserved, kReserved2, kTdAttributes, kXfam,
                    kMrTd, kMrConfigId, kMrOwner, kMrOwnerConfig, kRtmr0, kRtmr1, kRtmr2, kRtmr3,
                    kServTdHash, kTdInfoReserved));
}  // namespace tdreport

// A parsed TDREPORT, borrowing its buffer (spans of the layout's sizes).
struct TdReportView {
  std::uint8_t type = 0, subtype = 0, version = 0;
  ByteSpan cpu_svn, report_data, mac;
  ByteSpan tee_tcb_svn, mr_seam, mr_signer_seam, seam_attributes;
  ByteSpan td_attributes, xfam, mr_td, mr_config_id, mr_owner, mr_owner_config;
  std::array<ByteSpan, 4> rtmr;
  ByteSpan servtd_hash;
};

Result<TdReportView> ParseTdReport(ByteSpan bytes);

}  // namespace lunal::attest::tdx
