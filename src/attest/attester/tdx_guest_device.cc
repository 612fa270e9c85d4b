// /dev/tdx_guest: TDX_CMD_GET_REPORT0 (guest_abi.h [TDXU]). See guest_device.h for why this
// backend gives TDREPORTs and not quotes.
#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>

#include "guest_abi.h"
#include "lunal/attest/guest_device.h"
#include "lunal/attest/tdx/td_report.h"
#include "sysfs_io.h"

namespace lunal::attest {

namespace {
constexpr std::string_view kPrefix = "attest.tdx_guest";
}  // namespace

Result<Bytes> TdxGuestDeviceAttester::GetTdReport(
    std::span<const std::uint8_t, kReportDataSize> report_data) {
  std::lock_guard lock(mutex_);
  int fd = ::open(device_.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) {
      return Unavailable("attest.tdx_guest.unavailable",
                         "{} does not exist (not a TDX guest, or no tdx_guest driver)",
                         device_.string());
    }
    return internal::ErrnoStatus(errno, kPrefix, "tdreport", "open", device_);
  }
  guest_abi::TdxReportReq req = guest_abi::MakeTdxReportReq(report_data);
  int rc;
  do {
    rc = ::ioctl(fd, guest_abi::kTdxCmdGetReport0, &req);
  } while (rc < 0 && errno == EINTR);
  int err = errno;
  ::close(fd);
  if (rc < 0)
    return internal::ErrnoStatus(err, kPrefix, "tdreport", "TDX_CMD_GET_REPORT0", device_);
  Bytes report(std::begin(req.tdreport), std::end(req.tdreport));
  // The driver returns what TDG.MR.REPORT wrote; check it is a TDREPORT before handing it out.
  LUNAL_RETURN_IF_ERROR(tdx::ParseTdReport(report).status());
  return report;
}

Result<Evidence> TdxGuestDeviceAttester::Attest(
    std::span<const std::uint8_t, kReportDataSize> /*report_data*/) {
  return Unsupported("attest.tdx_guest.no_quote",
                     "{} gives TDREPORTs, which only this platform can check; a quote needs the "
                     "quote generation service (QGS over vsock or TDVMCALL<GetQuote>), which "
                     "Lunal does not implement: use configfs-tsm (Linux 6.7 or later)",
                     device_.string());
}

Status TdxGuestDeviceAttester::ExtendRtmr(int /*index*/, ByteSpan /*digest*/, ByteSpan /*event*/) {
  return Unsupported("attest.rtmr.unsupported",
                     "tdx-guest: RTMR extension is not implemented (it needs a runtime event "
                     "log travelling with the evidence; see src/attest/attester/README.md)");
}

}  // namespace lunal::attest
