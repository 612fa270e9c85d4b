// The pre-configfs fallbacks: the TDX and SEV-SNP guest drivers' character devices.
//
//   /dev/tdx_guest  ioctl TDX_CMD_GET_REPORT0 (Linux uapi <linux/tdx-guest.h>): a TDREPORT.
//   /dev/sev-guest  ioctls SNP_GET_REPORT / SNP_GET_EXT_REPORT (<linux/sev-guest.h>): a signed
//                   SNP attestation report, with the host's certificate table for the extended
//                   form.
//
// A TDREPORT is NOT a quote. It is MAC'd with a key only this CPU holds, so nobody else can check
// it; a quote is the TD Quoting Enclave's ECDSA signature over it, obtained through the quote
// generation service (QGS over vsock, or TDVMCALL<GetQuote> with a shared buffer, which mainline
// Linux only exposes through configfs-tsm). Neither is implemented here, so
// TdxGuestDeviceAttester::Attest returns kUnsupported attest.tdx_guest.no_quote; GetTdReport gives
// the TDREPORT itself (useful to read the measurements locally).
//
// The ioctl structures are defined from the kernel's uapi headers (guest_abi.h, static_asserts on
// every size and request number). Neither device exists on a machine without a TEE: only the
// marshalling is tested (guest_abi_test.cc), the ioctl calls themselves are not.
//
// Thread-safety: calls are serialised by a mutex; one attester may be shared.
//
// Errors (messages name the device):
//   kUnavailable       attest.tdx_guest.unavailable / attest.sev_guest.unavailable (no device),
//                      attest.tdx_guest.io / attest.sev_guest.io (ioctl failed: errno, and for
//                      SNP the firmware and VMM error codes), attest.sev_guest.firmware_error
//                      (MSG_REPORT_RSP status not 0)
//   kPermissionDenied  attest.tdx_guest.permission_denied / attest.sev_guest.permission_denied
//   kResourceExhausted attest.sev_guest.certs_too_large (the host's certificates exceed 16 KiB)
//   kMalformed         attest.sev_guest.bad_report_size, attest.sev_guest.cert_table.*,
//                      tdx.tdreport.* (tdx/td_report.h)
//   kUnsupported       attest.tdx_guest.no_quote, attest.rtmr.unsupported
#pragma once

#include <cstdint>
#include <filesystem>
#include <mutex>
#include <span>
#include <string_view>
#include <utility>

#include "lunal/attest/attester.h"
#include "lunal/common/bytes.h"
#include "lunal/common/result.h"
#include "lunal/common/status.h"

namespace lunal::attest {

inline constexpr std::string_view kTdxGuestDevice = "/dev/tdx_guest";
inline constexpr std::string_view kSevGuestDevice = "/dev/sev-guest";

class TdxGuestDeviceAttester final : public Attester {
 public:
  explicit TdxGuestDeviceAttester(
      std::filesystem::path device = std::filesystem::path(kTdxGuestDevice))
      : device_(std::move(device)) {}

  std::string_view Name() const override { return "tdx-guest"; }
  TeeType Tee() const override { return TeeType::kTdx; }

  // The 1024-byte TDREPORT (TDREPORT_STRUCT, TDX module ABI) whose REPORTDATA is report_data.
  Result<Bytes> GetTdReport(std::span<const std::uint8_t, kReportDataSize> report_data);

  // kUnsupported attest.tdx_guest.no_quote: see the header comment.
  Result<Evidence> Attest(std::span<const std::uint8_t, kReportDataSize> report_data) override;
  // kUnsupported attest.rtmr.unsupported (as ConfigfsTsmAttester: no runtime event log yet).
  Status ExtendRtmr(int index, ByteSpan digest, ByteSpan event) override;

 private:
  std::filesystem::path device_;
  std::mutex mutex_;
};

struct SevGuestDeviceOptions {
  std::filesystem::path device = std::filesystem::path(kSevGuestDevice);
  // VMPL to request the report at (snp_report_req.vmpl). A guest under an SVSM runs above 0 and
  // must ask for its own level or higher.
  std::uint32_t vmpl = 0;
  // SNP_GET_EXT_REPORT (report + the host's certificate table, e.g. the VCEK) or SNP_GET_REPORT.
  bool extended = true;
};

class SevGuestDeviceAttester final : public Attester {
 public:
  explicit SevGuestDeviceAttester(SevGuestDeviceOptions options = {})
      : options_(std::move(options)) {}

  std::string_view Name() const override { return "sev-guest"; }
  TeeType Tee() const override { return TeeType::kSnp; }

  // quote = the 1184-byte report; aux_blob = the certificate table (trimmed to what its entries
  // use; empty when the host supplies none or `extended` is false); provider "sev_guest".
  Result<Evidence> Attest(std::span<const std::uint8_t, kReportDataSize> report_data) override;
  // kUnsupported attest.rtmr.unsupported: SEV-SNP has no RTMRs.
  Status ExtendRtmr(int index, ByteSpan digest, ByteSpan event) override;

 private:
  SevGuestDeviceOptions options_;
  std::mutex mutex_;
};

}  // namespace lunal::attest
