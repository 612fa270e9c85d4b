#include "guest_abi.h"

#include <algorithm>
#include <cstddef>
#include <cstring>

#include "lunal/common/byte_reader.h"

#if __has_include(<linux/sev-guest.h>)
#include <linux/sev-guest.h>
#define LUNAL_HAVE_SEV_GUEST_UAPI 1
#endif
#if __has_include(<linux/tdx-guest.h>)
#include <linux/tdx-guest.h>
#define LUNAL_HAVE_TDX_GUEST_UAPI 1
#endif

namespace lunal::attest::guest_abi {

// Our definitions against the system's uapi headers, where this machine has them.
#ifdef LUNAL_HAVE_SEV_GUEST_UAPI
static_assert(sizeof(SnpReportReq) == sizeof(snp_report_req));
static_assert(offsetof(SnpReportReq, vmpl) == offsetof(snp_report_req, vmpl));
static_assert(sizeof(SnpReportResp) == sizeof(snp_report_resp));
static_assert(sizeof(SnpGuestRequestIoctl) == sizeof(snp_guest_request_ioctl));
static_assert(offsetof(SnpGuestRequestIoctl, req_data) ==
              offsetof(snp_guest_request_ioctl, req_data));
static_assert(offsetof(SnpGuestRequestIoctl, exitinfo2) ==
              offsetof(snp_guest_request_ioctl, exitinfo2));
static_assert(sizeof(SnpExtReportReq) == sizeof(snp_ext_report_req));
static_assert(offsetof(SnpExtReportReq, certs_len) == offsetof(snp_ext_report_req, certs_len));
static_assert(kSnpGetReport == SNP_GET_REPORT && kSnpGetExtReport == SNP_GET_EXT_REPORT);
#endif
#ifdef LUNAL_HAVE_TDX_GUEST_UAPI
static_assert(sizeof(TdxReportReq) == sizeof(tdx_report_req));
static_assert(kTdxCmdGetReport0 == TDX_CMD_GET_REPORT0);
#endif

TdxReportReq MakeTdxReportReq(std::span<const std::uint8_t, kReportDataSize> report_data) {
  TdxReportReq req{};
  std::copy(report_data.begin(), report_data.end(), req.reportdata);
  return req;
}

SnpReportReq MakeSnpReportReq(std::span<const std::uint8_t, kReportDataSize> report_data,
                              std::uint32_t vmpl) {
  SnpReportReq req{};
  std::copy(report_data.begin(), report_data.end(), req.user_data);
  req.vmpl = vmpl;
  return req;
}

namespace {
std::string_view FirmwareStatusName(std::uint32_t status) {
  switch (status) {
    case 0x00:
      return "SUCCESS";
    case 0x16:
      return "INVALID_PARAM";
    case 0x27:
      return "INVALID_KEY";
    default:
      return "unknown";
  }
}
}  // namespace

Result<ByteSpan> ParseSnpReportResponse(ByteSpan response) {
  ByteReader r(response);
  LUNAL_ASSIGN_OR_RETURN(std::uint32_t status, r.U32Le("attest.sev_guest.response.status"));
  LUNAL_ASSIGN_OR_RETURN(std::uint32_t size, r.U32Le("attest.sev_guest.response.report_size"));
  LUNAL_RETURN_IF_ERROR(r.Skip(24, "attest.sev_guest.response.reserved"));
  if (status != 0) {
    return Unavailable("attest.sev_guest.firmware_error", "MSG_REPORT_RSP status 0x{:x} ({})",
                       status, FirmwareStatusName(status));
  }
  if (size < kSnpReportSize || size > r.remaining()) {
    return Malformed("attest.sev_guest.bad_report_size",
                     "MSG_REPORT_RSP report_size {} (a report is {} bytes; {} fit the response)",
                     size, kSnpReportSize, r.remaining());
  }
  return r.Bytes(size, "attest.sev_guest.response.report");
}

Result<std::size_t> CertTableUsedSize(ByteSpan table) {
  ByteReader r(table);
  std::size_t used = 0;
  for (std::size_t i = 0;; ++i) {
    if (i == kMaxCertEntries) {
      return Malformed("attest.sev_guest.cert_table.too_many_entries",
                       "more than {} certificate table entries", kMaxCertEntries);
    }
    if (r.remaining() < kCertEntrySize) {
      return Malformed("attest.sev_guest.cert_table.unterminated",
                       "certificate table: no all-zero entry within {} bytes", table.size());
    }
    LUNAL_ASSIGN_OR_RETURN(ByteSpan guid, r.Bytes(16, "attest.sev_guest.cert_table.guid"));
    LUNAL_ASSIGN_OR_RETURN(std::uint32_t offset, r.U32Le("attest.sev_guest.cert_table.offset"));
    LUNAL_ASSIGN_OR_RETURN(std::uint32_t length, r.U32Le("attest.sev_guest.cert_table.length"));
    bool terminator = offset == 0 && length == 0 &&
                      std::all_of(guid.begin(), guid.end(), [](std::uint8_t b) { return b == 0; });
    if (terminator) return i == 0 ? std::size_t{0} : std::max(used, r.position());
    if (offset > table.size() || length > table.size() - offset) {
      return Malformed("attest.sev_guest.cert_table.entry_out_of_range",
                       "certificate table entry {}: offset {} length {} beyond {} bytes", i, offset,
                       length, table.size());
    }
    used = std::max<std::size_t>(used, std::size_t{offset} + length);
  }
}

std::string DescribeSnpExitInfo(std::uint64_t exitinfo2) {
  auto firmware = static_cast<std::uint32_t>(exitinfo2 & 0xFFFFFFFFu);
  auto vmm = static_cast<std::uint32_t>(exitinfo2 >> 32);
  std::string_view vmm_name = vmm == kSnpVmmErrInvalidLen ? " (INVALID_LEN)"
                              : vmm == kSnpVmmErrBusy     ? " (BUSY)"
                                                          : "";
  return fmt::format("firmware error 0x{:x} ({}), VMM error {}{}", firmware,
                     FirmwareStatusName(firmware), vmm, vmm_name);
}

}  // namespace lunal::attest::guest_abi
