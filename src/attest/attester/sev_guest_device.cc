// /dev/sev-guest: SNP_GET_EXT_REPORT / SNP_GET_REPORT (guest_abi.h [SEVU], [SEVK]).
#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <vector>

#include "evidence_check.h"
#include "guest_abi.h"
#include "lunal/attest/guest_device.h"
#include "sysfs_io.h"

namespace lunal::attest {

namespace {
constexpr std::string_view kPrefix = "attest.sev_guest";
}  // namespace

Result<Evidence> SevGuestDeviceAttester::Attest(
    std::span<const std::uint8_t, kReportDataSize> report_data) {
  namespace abi = guest_abi;
  std::lock_guard lock(mutex_);
  const std::filesystem::path& device = options_.device;
  int fd = ::open(device.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) {
      return Unavailable("attest.sev_guest.unavailable",
                         "{} does not exist (not an SEV-SNP guest, or no sev-guest driver)",
                         device.string());
    }
    return internal::ErrnoStatus(errno, kPrefix, "report", "open", device);
  }

  abi::SnpExtReportReq ext{};
  ext.data = abi::MakeSnpReportReq(report_data, options_.vmpl);
  // The kernel accepts a certificate buffer of whole pages up to 16 KiB [SEVK]: take the most.
  std::vector<std::uint8_t> certs(options_.extended ? abi::kSnpCertsMax : 0);
  ext.certs_address = reinterpret_cast<std::uintptr_t>(certs.data());
  ext.certs_len = static_cast<std::uint32_t>(certs.size());
  abi::SnpReportResp resp{};
  abi::SnpGuestRequestIoctl request{};
  request.msg_version = abi::kSnpMsgVersion;
  request.req_data = options_.extended ? reinterpret_cast<std::uintptr_t>(&ext)
                                       : reinterpret_cast<std::uintptr_t>(&ext.data);
  request.resp_data = reinterpret_cast<std::uintptr_t>(&resp);
  unsigned long command = options_.extended ? abi::kSnpGetExtReport : abi::kSnpGetReport;
  int rc;
  do {
    rc = ::ioctl(fd, command, &request);
  } while (rc < 0 && errno == EINTR);
  int err = errno;
  ::close(fd);
  if (rc < 0) {
    if (static_cast<std::uint32_t>(request.exitinfo2 >> 32) == abi::kSnpVmmErrInvalidLen) {
      return ResourceExhausted("attest.sev_guest.certs_too_large",
                               "{}: the host's certificates need {} bytes, more than {}",
                               device.string(), ext.certs_len, abi::kSnpCertsMax);
    }
    Status status =
        internal::ErrnoStatus(err, kPrefix, "report",
                              options_.extended ? "SNP_GET_EXT_REPORT" : "SNP_GET_REPORT", device);
    return status.WithContext(abi::DescribeSnpExitInfo(request.exitinfo2) + ": ");
  }

  LUNAL_ASSIGN_OR_RETURN(ByteSpan report, abi::ParseSnpReportResponse(resp.data));
  LUNAL_RETURN_IF_ERROR(
      internal::CheckReportData(TeeType::kSnp, report, report_data, kPrefix, device.string()));
  Evidence evidence;
  evidence.tee = TeeType::kSnp;
  evidence.quote.assign(report.begin(), report.end());
  evidence.provider = "sev_guest";
  if (options_.extended) {
    LUNAL_ASSIGN_OR_RETURN(std::size_t used, abi::CertTableUsedSize(certs));
    evidence.aux_blob.assign(certs.begin(), certs.begin() + static_cast<std::ptrdiff_t>(used));
  }
  return evidence;
}

Status SevGuestDeviceAttester::ExtendRtmr(int /*index*/, ByteSpan /*digest*/, ByteSpan /*event*/) {
  return Unsupported("attest.rtmr.unsupported", "sev-guest: SEV-SNP has no RTMRs");
}

}  // namespace lunal::attest
