// The configfs-tsm attester: evidence from Linux's shared attestation-report ABI,
// /sys/kernel/config/tsm/report (Linux >= 6.7; TDX through tdx_guest, SEV-SNP through
// sev_guest). The ABI as we use it, with citations: docs/formats/configfs-tsm.md.
//
//   LUNAL_ASSIGN_OR_RETURN(auto attester, ConfigfsTsmAttester::Open({}));
//   LUNAL_ASSIGN_OR_RETURN(Evidence evidence, attester->Attest(report_data));
//
// One Attest call is one report instance of our own, never shared:
//   1. mkdir <root>/lunal-<16 random hex>   (configfs creates the attributes with the directory)
//   2. read `provider`                       ("tdx_guest" -> TDX, "sev_guest" -> SNP)
//   3. read `generation`                     (must be 0: the entry is new and nobody wrote to it)
//   4. write the 64 bytes to `inblob`        (one write: generation becomes 1)
//   5. read `outblob`, then `auxblob` if the provider exposes it
//   6. read `generation`                     (must be 1: any other value means another writer
//                                             changed the request before the report was read)
//   7. rmdir the entry (always, also on every failure: an RAII guard)
// A mismatch in 3 or 6 retries with a fresh entry, at most `max_attempts` times in all. The
// returned quote must carry REPORT_DATA == report_data (checked with the TDX / SNP structure
// parsers; nothing is verified: an attester never judges its own evidence).
//
// For TDX, the firmware's CC event log (the ACPI CCEL table, `ccel_path`) is returned as the
// evidence's event log when readable; it is evidence from the untrusted side like the quote.
//
// Thread-safety: Attest calls are serialised by a mutex (one attester may be shared); separate
// processes do not interfere because each call uses its own entry.
//
// Errors (stable reasons; messages name the path involved):
//   kUnavailable        attest.configfs.unavailable (the root does not exist: no configfs, or a
//                       kernel without CONFIG_TSM_REPORTS), attest.configfs.no_provider (ENXIO:
//                       no TSM driver registered), attest.configfs.not_tsm_entry (the new entry
//                       has no `generation` attribute: not a configfs-tsm tree),
//                       attest.configfs.io (any other errno), attest.configfs.empty_outblob,
//                       attest.configfs.generation_race (retries exhausted),
//                       attest.configfs.provider_changed (not the provider Open found),
//                       attest.configfs.report_data_mismatch
//   kPermissionDenied   attest.configfs.permission_denied (EACCES/EPERM; names the file)
//   kResourceExhausted  attest.configfs.outblob_too_large, attest.configfs.auxblob_too_large,
//                       attest.configfs.ccel_too_large (over our bounds, or EFBIG from the kernel)
//   kMalformed          attest.configfs.bad_generation (not a decimal number); the TDX / SNP
//                       parsers' reasons for an outblob that does not parse
//   kUnsupported        attest.configfs.unknown_provider (neither tdx_guest nor sev_guest),
//                       attest.rtmr.unsupported (ExtendRtmr: see below)
//
// RTMR extension is not offered here: the report ABI has none, and an RTMR extended without the
// event travelling in the evidence's log would make every later quote fail its event-log
// replay. Linux 6.16 added writable RTMR attributes (tsm-mr, /sys/class/misc/tdx_guest/
// measurements/rtmr[0-3]:sha384) that a later backend can pair with a runtime event log.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "lunal/attest/attester.h"
#include "lunal/common/bytes.h"
#include "lunal/common/result.h"
#include "lunal/common/status.h"

namespace lunal::attest {

inline constexpr std::string_view kConfigfsTsmRoot = "/sys/kernel/config/tsm/report";
inline constexpr std::string_view kCcelPath = "/sys/firmware/acpi/tables/data/CCEL";

struct ConfigfsTsmOptions {
  std::filesystem::path root = std::filesystem::path(kConfigfsTsmRoot);
  // The TDX CC event log to return with TDX evidence; empty: none. A missing file is not an error.
  std::filesystem::path ccel_path = std::filesystem::path(kCcelPath);
  // Bounds. The kernel's own limit is 32 KiB per blob (TSM_REPORT_OUTBLOB_MAX); ours are looser
  // so a future kernel is not refused for nothing, and still keep memory bounded.
  std::size_t max_outblob = 64 * 1024;
  std::size_t max_auxblob = 1024 * 1024;
  std::size_t max_ccel = 8 * 1024 * 1024;
  int max_attempts = 3;  // fresh entries tried when the generation check fails
  // configfs creates an entry's attributes together with the directory, so 0 is right for the
  // kernel. A tree emulated in user space (the tests' fake provider) creates them moments later:
  // the attester then polls up to this long for `generation` to appear.
  std::chrono::milliseconds attribute_wait{0};
};

class ConfigfsTsmAttester final : public Attester {
 public:
  // Checks that the root exists and learns the provider (a probe entry: mkdir, read `provider`,
  // rmdir; no report is generated). Errors: as Attest's, before any report.
  static Result<std::unique_ptr<ConfigfsTsmAttester>> Open(ConfigfsTsmOptions options);

  std::string_view Name() const override { return "configfs-tsm"; }
  TeeType Tee() const override { return tee_; }
  const std::string& provider() const { return provider_; }
  const ConfigfsTsmOptions& options() const { return options_; }

  Result<Evidence> Attest(std::span<const std::uint8_t, kReportDataSize> report_data) override;
  // kUnsupported attest.rtmr.unsupported (see the header comment).
  Status ExtendRtmr(int index, ByteSpan digest, ByteSpan event) override;

 private:
  ConfigfsTsmAttester(ConfigfsTsmOptions options, TeeType tee, std::string provider)
      : options_(std::move(options)), tee_(tee), provider_(std::move(provider)) {}

  ConfigfsTsmOptions options_;
  TeeType tee_;
  std::string provider_;
  std::mutex mutex_;
};

// "tdx_guest" -> kTdx, "sev_guest" -> kSnp; anything else kUnsupported
// attest.configfs.unknown_provider naming it.
Result<TeeType> TeeForProvider(std::string_view provider);

}  // namespace lunal::attest
