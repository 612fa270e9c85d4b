// The guest drivers' ioctl ABI and the structures that cross it, defined here from the sources
// below (the kernel headers are not a build dependency: <linux/tdx-guest.h> is missing from
// Debian 12's linux-libc-dev, and both headers change between kernel releases). Where the system
// header exists, the static_asserts in guest_abi.cc check our definitions against it.
//
// Sources:
//   [TDXU] Linux include/uapi/linux/tdx-guest.h: struct tdx_report_req, TDX_CMD_GET_REPORT0
//          (the only ioctl in mainline; TDX_CMD_EXTEND_RTMR / TDX_CMD_GET_QUOTE existed only in
//          out-of-tree drivers, with two incompatible encodings).
//   [TDXA] Intel TDX Module ABI specification (348551), TDREPORT_STRUCT, REPORTMACSTRUCT,
//          TEE_TCB_INFO and TDINFO_STRUCT tables (1024 = 256 + 239 + 17 + 512 bytes).
//   [SEVU] Linux include/uapi/linux/sev-guest.h: struct snp_report_req, snp_report_resp,
//          snp_guest_request_ioctl, snp_ext_report_req, SNP_GET_REPORT, SNP_GET_EXT_REPORT.
//   [SEVK] Linux drivers/virt/coco/sev-guest/sev-guest.c: struct snp_msg_report_resp_hdr
//          (status, report_size, 24 reserved bytes, then the report), the certificate buffer
//          limits (SEV_FW_BLOB_MAX_SIZE, 16 KiB, page-sized multiples).
//   [SNPA] AMD SEV-SNP Firmware ABI specification (56860), MSG_REPORT_RSP: status 0 success,
//          0x16 INVALID_PARAM, 0x27 INVALID_KEY.
//   [GHCB] AMD GHCB specification (56421) 2.03, section 4.1.8.1: the certificate table of
//          (GUID, offset, length) entries ending with an all-zero entry; offsets are from the
//          start of the table.
#pragma once

#include <linux/ioctl.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "lunal/attest/attester.h"
#include "lunal/attest/layout.h"
#include "lunal/common/bytes.h"
#include "lunal/common/result.h"

namespace lunal::attest::guest_abi {

// ---- /dev/tdx_guest [TDXU] ---------------------------------------------------------------------

inline constexpr std::size_t kTdxReportDataLen = 64;
inline constexpr std::size_t kTdxReportLen = 1024;

struct TdxReportReq {
  std::uint8_t reportdata[kTdxReportDataLen];
  std::uint8_t tdreport[kTdxReportLen];
};
static_assert(sizeof(TdxReportReq) == 1088);

inline constexpr unsigned long kTdxCmdGetReport0 = _IOWR('T', 1, TdxReportReq);
static_assert(kTdxCmdGetReport0 == 0xC4405401UL);

TdxReportReq MakeTdxReportReq(std::span<const std::uint8_t, kReportDataSize> report_data);

// The TDREPORT the ioctl fills is parsed by tdx::ParseTdReport (lunal/attest/tdx/td_report.h).

// ---- /dev/sev-guest [SEVU] ---------------------------------------------------------------------

struct SnpReportReq {
  std::uint8_t user_data[64];
  std::uint32_t vmpl;
  std::uint8_t rsvd[28];
};
static_assert(sizeof(SnpReportReq) == 96);

struct SnpReportResp {
  std::uint8_t data[4000];
};
static_assert(sizeof(SnpReportResp) == 4000);

struct SnpGuestRequestIoctl {
  std::uint8_t msg_version;
  std::uint64_t req_data;
  std::uint64_t resp_data;
  std::uint64_t exitinfo2;  // bits 63..32 VMM error, 31..0 firmware error
};
static_assert(sizeof(SnpGuestRequestIoctl) == 32);

struct SnpExtReportReq {
  SnpReportReq data;
  std::uint64_t certs_address;
  std::uint32_t certs_len;
};
static_assert(sizeof(SnpExtReportReq) == 112);

inline constexpr unsigned long kSnpGetReport = _IOWR('S', 0x0, SnpGuestRequestIoctl);
inline constexpr unsigned long kSnpGetExtReport = _IOWR('S', 0x2, SnpGuestRequestIoctl);
static_assert(kSnpGetReport == 0xC0205300UL && kSnpGetExtReport == 0xC0205302UL);

inline constexpr std::uint8_t kSnpMsgVersion = 1;
inline constexpr std::uint32_t kSnpVmmErrInvalidLen = 1;  // certs_len too small; set to the need
inline constexpr std::uint32_t kSnpVmmErrBusy = 2;
inline constexpr std::size_t kSnpCertsMax = 16 * 1024;  // [SEVK] SEV_FW_BLOB_MAX_SIZE
inline constexpr std::size_t kSnpReportSize = 1184;     // ATTESTATION_REPORT [SNPA]
inline constexpr std::size_t kSnpRespHeaderSize = 32;   // snp_msg_report_resp_hdr [SEVK]
inline constexpr std::size_t kCertEntrySize = 24;       // GUID 16, offset 4, length 4 [GHCB]
inline constexpr std::size_t kMaxCertEntries = 64;

SnpReportReq MakeSnpReportReq(std::span<const std::uint8_t, kReportDataSize> report_data,
                              std::uint32_t vmpl);

// The report inside a decrypted MSG_REPORT_RSP (snp_report_resp.data): a borrowed span.
// kUnavailable attest.sev_guest.firmware_error (status not 0, named), kMalformed
// attest.sev_guest.bad_report_size (smaller than a report or beyond the buffer).
Result<ByteSpan> ParseSnpReportResponse(ByteSpan response);

// The bytes of a GHCB certificate table that its entries use: the table through its all-zero
// terminator and every certificate it points to; 0 when the first entry is the terminator (the
// host supplied no certificates). kMalformed attest.sev_guest.cert_table.unterminated,
// .entry_out_of_range, .too_many_entries.
Result<std::size_t> CertTableUsedSize(ByteSpan table);

// "firmware error 0x16 (INVALID_PARAM), VMM error 0" for an exitinfo2 value.
std::string DescribeSnpExitInfo(std::uint64_t exitinfo2);

}  // namespace lunal::attest::guest_abi
