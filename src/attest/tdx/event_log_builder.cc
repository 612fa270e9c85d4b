// EventLogBuilder: writes the records ParseEventLog reads (event_log.cc has the layout diagram;
// TCG PC Client PFP r1.06 §10: TCG_PCClientPCREvent, TCG_PCR_EVENT2, TCG_EfiSpecIDEvent).
#include "lunal/attest/tdx/event_log_builder.h"

#include <algorithm>
#include <limits>
#include <optional>
#include <string_view>
#include <utility>

#include "lunal/crypto/digest.h"

namespace lunal::attest::tdx {
namespace {

constexpr std::string_view kSpecIdSignature03{"Spec ID Event03\0", 16};
constexpr std::size_t kSha1Size = 20;

void PutU8(Bytes& out, std::uint8_t v) { out.push_back(v); }
void PutU16(Bytes& out, std::uint16_t v) {
  out.push_back(static_cast<std::uint8_t>(v));
  out.push_back(static_cast<std::uint8_t>(v >> 8));
}
void PutU32(Bytes& out, std::uint32_t v) {
  for (int shift = 0; shift < 32; shift += 8) out.push_back(static_cast<std::uint8_t>(v >> shift));
}
void PutBytes(Bytes& out, ByteSpan bytes) { out.insert(out.end(), bytes.begin(), bytes.end()); }

std::optional<crypto::DigestAlgorithm> DigestOf(std::uint16_t algorithm_id) {
  switch (algorithm_id) {
    case kTpmAlgSha256:
      return crypto::DigestAlgorithm::kSha256;
    case kTpmAlgSha384:
      return crypto::DigestAlgorithm::kSha384;
    case kTpmAlgSha512:
      return crypto::DigestAlgorithm::kSha512;
    default:
      return std::nullopt;
  }
}

// TCG_EfiSpecIDEvent for a SHA-384-only log.
Bytes SpecIdEventBytes(const SpecIdAlgorithm& alg) {
  Bytes s;
  PutBytes(s, AsBytes(kSpecIdSignature03));
  PutU32(s, 0);  // platformClass: client
  PutU8(s, 0);   // specVersionMinor
  PutU8(s, 2);   // specVersionMajor
  PutU8(s, 0);   // specErrata
  PutU8(s, 2);   // uintnSize: UINT64
  PutU32(s, 1);  // numberOfAlgorithms
  PutU16(s, alg.algorithm_id);
  PutU16(s, alg.digest_size);
  PutU8(s, 0);  // vendorInfoSize
  return s;
}

}  // namespace

EventLogBuilder EventLogBuilder::New() {
  const SpecIdAlgorithm sha384{.algorithm_id = kTpmAlgSha384, .digest_size = kRtmrSize};
  const Bytes spec_id = SpecIdEventBytes(sha384);
  Bytes bytes;
  PutU32(bytes, 0);  // pcrIndex (PFP: 0 for the Spec ID event)
  PutU32(bytes, kEvNoAction);
  bytes.insert(bytes.end(), kSha1Size, 0);  // digest: zero
  PutU32(bytes, static_cast<std::uint32_t>(spec_id.size()));
  PutBytes(bytes, spec_id);
  return EventLogBuilder(std::move(bytes), {sha384}, 0);
}

Result<EventLogBuilder> EventLogBuilder::Continue(const EventLog& log) {
  for (const SpecIdAlgorithm& alg : log.spec_id.algorithms) {
    if (!DigestOf(alg.algorithm_id)) {
      return Unsupported("tdx.event_log.builder.unsupported_algorithm",
                         "the log declares {}; records can be appended only to logs whose "
                         "algorithms are SHA-256, SHA-384 and SHA-512",
                         AlgorithmName(alg.algorithm_id));
    }
  }
  if (std::none_of(log.spec_id.algorithms.begin(), log.spec_id.algorithms.end(),
                   [](const SpecIdAlgorithm& a) { return a.algorithm_id == kTpmAlgSha384; })) {
    return Unsupported("tdx.event_log.no_sha384", "the log declares no SHA-384 digests");
  }
  return EventLogBuilder(log.bytes, log.spec_id.algorithms, log.events.size());
}

Result<Bytes> EventLogBuilder::Append(std::uint32_t mr_index, std::uint32_t event_type,
                                      ByteSpan data) {
  if (mr_index < 1 || mr_index > 4) {
    return InvalidArgument("tdx.event_log.builder.bad_mr_index",
                           "MR index {} is not 1..4 (RTMR0..3)", mr_index);
  }
  if (event_type == kEvNoAction) {
    return InvalidArgument("tdx.event_log.builder.no_action",
                           "EV_NO_ACTION records are not measurements");
  }
  if (data.size() > std::numeric_limits<std::uint32_t>::max()) {
    return InvalidArgument("tdx.event_log.builder.too_large", "{} bytes of event data",
                           data.size());
  }
  if (event_count_ >= kMaxEvents) {
    return ResourceExhausted("tdx.event_log.too_many_events", "the log already holds {} events",
                             event_count_);
  }
  Bytes sha384;
  PutU32(bytes_, mr_index);
  PutU32(bytes_, event_type);
  PutU32(bytes_, static_cast<std::uint32_t>(algorithms_.size()));
  for (const SpecIdAlgorithm& alg : algorithms_) {
    Bytes digest = crypto::Digest(*DigestOf(alg.algorithm_id), data);  // checked in Continue
    PutU16(bytes_, alg.algorithm_id);
    PutBytes(bytes_, digest);
    if (alg.algorithm_id == kTpmAlgSha384) sha384 = std::move(digest);
  }
  PutU32(bytes_, static_cast<std::uint32_t>(data.size()));
  PutBytes(bytes_, data);
  ++event_count_;
  return sha384;
}

Result<Bytes> EventLogBuilder::AppendLunal(const LunalEvent& event) {
  LUNAL_ASSIGN_OR_RETURN(Bytes data, EncodeLunalEvent(event));
  return Append(kLunalMrIndex, kEvEventTag, data);
}

}  // namespace lunal::attest::tdx
