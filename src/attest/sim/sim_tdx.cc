// SimTdxAttester (sim_tdx.h): RTMR state, the event log, and quotes from the simulated QE.
#include "lunal/attest/sim/sim_tdx.h"

#include <algorithm>
#include <utility>

#include "lunal/attest/tdx/event_log_lunal.h"
#include "lunal/attest/tdx/quote_layout.h"
#include "lunal/crypto/digest.h"
#include "sim_quote.h"

namespace lunal::attest::sim {
namespace {

constexpr std::size_t kMeasurementSize = tdx::layout::body::kMeasurementSize;

Status CheckOptionalMeasurement(const Bytes& value, std::string_view name) {
  if (value.empty() || value.size() == kMeasurementSize) return Status::Ok();
  return InvalidArgument("sim.config.bad_measurement", "{} is {} bytes; a measurement is {}", name,
                         value.size(), kMeasurementSize);
}

// The CC MR index of RTMR `index` in the event log (UEFI 2.10 §38.4.1: 0 = MRTD, 1..4 = RTMR0..3).
std::uint32_t MrIndex(int index) { return static_cast<std::uint32_t>(index) + 1; }

}  // namespace

SimTdxAttester::SimTdxAttester(std::shared_ptr<const SimulationRoot> root, SimTdxConfig config,
                               tdx::EventLogBuilder log, std::array<Bytes, 4> rtmr)
    : root_(std::move(root)),
      config_(std::move(config)),
      log_(std::move(log)),
      rtmr_(std::move(rtmr)) {}

Result<std::unique_ptr<SimTdxAttester>> SimTdxAttester::Create(
    std::shared_ptr<const SimulationRoot> root, SimTdxConfig config) {
  if (config.mr_td.size() != kMeasurementSize) {
    return InvalidArgument("sim.config.bad_mr_td",
                           "MRTD must be the 48-byte SHA-384 of the sandbox image, got {} bytes",
                           config.mr_td.size());
  }
  LUNAL_RETURN_IF_ERROR(CheckOptionalMeasurement(config.mr_config_id, "mr_config_id"));
  LUNAL_RETURN_IF_ERROR(CheckOptionalMeasurement(config.mr_owner, "mr_owner"));
  LUNAL_RETURN_IF_ERROR(CheckOptionalMeasurement(config.mr_owner_config, "mr_owner_config"));
  // RTMRs start as 48 zero bytes; the boot measurements extend RTMR0..2 and are logged.
  std::array<Bytes, 4> rtmr;
  for (Bytes& r : rtmr) r.assign(kMeasurementSize, 0);
  tdx::EventLogBuilder log = tdx::EventLogBuilder::New();
  for (const BootMeasurement& m : config.boot_measurements) {
    if (m.rtmr < 0 || m.rtmr > 2) {
      return InvalidArgument("sim.config.bad_measurement_register",
                             "boot measurements extend RTMR0..2, not RTMR{} (RTMR3 is extended "
                             "at run time by ExtendRtmr)",
                             m.rtmr);
    }
    if (tdx::ClaimsLunalEvent(m.event)) {
      return InvalidArgument("attest.rtmr.lunal_event_not_rtmr3",
                             "a Lunal event as a boot measurement of RTMR{}; Lunal events are "
                             "measured into RTMR3 by ExtendRtmr",
                             m.rtmr);
    }
    LUNAL_ASSIGN_OR_RETURN(Bytes digest, log.Append(MrIndex(m.rtmr), m.event_type, m.event));
    LUNAL_RETURN_IF_ERROR(tdx::ExtendRtmr(rtmr[static_cast<std::size_t>(m.rtmr)], digest));
  }
  return std::unique_ptr<SimTdxAttester>(
      new SimTdxAttester(std::move(root), std::move(config), std::move(log), std::move(rtmr)));
}

Status SimTdxAttester::ExtendRtmr(int index, ByteSpan digest, ByteSpan event) {
  if (index < 0 || index > 3) {
    return InvalidArgument("attest.rtmr.bad_index", "RTMR index {} is not 0..3", index);
  }
  if (digest.size() != kMeasurementSize) {
    return InvalidArgument("attest.rtmr.bad_digest", "an RTMR extend value is {} bytes, not {}",
                           digest.size(), kMeasurementSize);
  }
  const auto expected = crypto::Sha384(event);
  if (!std::equal(expected.begin(), expected.end(), digest.begin(), digest.end())) {
    return InvalidArgument("attest.rtmr.digest_mismatch",
                           "the digest is not SHA-384 of the event; the event log records the "
                           "digest of each event, so the log could not replay this extension");
  }
  if (tdx::ClaimsLunalEvent(event) && index != 3) {
    return InvalidArgument("attest.rtmr.lunal_event_not_rtmr3",
                           "Lunal events are measured into RTMR3, not RTMR{}; a log holding one "
                           "elsewhere is refused by every verifier",
                           index);
  }
  std::lock_guard lock(mu_);
  LUNAL_ASSIGN_OR_RETURN(Bytes logged, log_.Append(MrIndex(index), tdx::kEvEventTag, event));
  return tdx::ExtendRtmr(rtmr_[static_cast<std::size_t>(index)], logged);
}

Result<Evidence> SimTdxAttester::Attest(
    std::span<const std::uint8_t, kReportDataSize> report_data) {
  Evidence out;
  std::array<Bytes, 4> rtmr;
  {
    std::lock_guard lock(mu_);  // one snapshot: the log replays to exactly these RTMRs
    rtmr = rtmr_;
    out.event_log = log_.bytes();
  }
  internal::TdMeasurements td{.mr_td = config_.mr_td,
                              .mr_config_id = config_.mr_config_id,
                              .mr_owner = config_.mr_owner,
                              .mr_owner_config = config_.mr_owner_config,
                              .rtmr = {rtmr[0], rtmr[1], rtmr[2], rtmr[3]},
                              .report_data = report_data,
                              .td_attributes = config_.td_attributes};
  LUNAL_ASSIGN_OR_RETURN(out.quote, internal::BuildQuote(*root_, td));
  out.tee = TeeType::kTdx;
  out.provider = std::string(kProvider);
  out.simulated = true;
  return out;
}

std::array<Bytes, 4> SimTdxAttester::Rtmrs() const {
  std::lock_guard lock(mu_);
  return rtmr_;
}

Bytes SimTdxAttester::EventLog() const {
  std::lock_guard lock(mu_);
  return log_.bytes();
}

}  // namespace lunal::attest::sim
