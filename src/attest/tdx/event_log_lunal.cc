// Lunal's RTMR3 events: TCG_PCClientTaggedEvent (TCG PC Client PFP r1.05 §10.2.6) whose data is
// the canonical JSON {"type": …, "value": …}. docs/formats/tdx-event-log.md, "Lunal events".
//
//   taggedEventID u32 = 0x4C4E554C ("LUNL") | taggedEventDataSize u32 | canonical JSON
#include "lunal/attest/tdx/event_log_lunal.h"

#include <algorithm>
#include <array>
#include <optional>

#include "lunal/common/byte_reader.h"
#include "lunal/common/json.h"

namespace lunal::attest::tdx {
namespace {

constexpr std::array<LunalEventType, 3> kTypes = {
    LunalEventType::kBuildHash, LunalEventType::kConfigHash, LunalEventType::kInstanceId};
constexpr std::size_t kMaxInstanceId = 128;
constexpr std::string_view kSha256Prefix = "sha256:";

std::optional<LunalEventType> TypeFromName(std::string_view name) {
  for (LunalEventType type : kTypes) {
    if (LunalEventTypeName(type) == name) return type;
  }
  return std::nullopt;
}

bool IsLowerHex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

bool IsIdChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == ':' || c == '-';
}

// "sha256:<64 lowercase hex>" (DESIGN.md: the build hash), or an instance id.
bool ValidValue(LunalEventType type, std::string_view value) {
  if (type == LunalEventType::kInstanceId) {
    return !value.empty() && value.size() <= kMaxInstanceId &&
           std::all_of(value.begin(), value.end(), IsIdChar);
  }
  if (!value.starts_with(kSha256Prefix)) return false;
  std::string_view hex = value.substr(kSha256Prefix.size());
  return hex.size() == 64 && std::all_of(hex.begin(), hex.end(), IsLowerHex);
}

Status BadValue(Code code, LunalEventType type, std::string_view value) {
  return Status(
      code, "tdx.event_log.lunal.bad_value",
      fmt::format("{} value \"{}\" is not {}", LunalEventTypeName(type), value.substr(0, 80),
                  type == LunalEventType::kInstanceId ? "1..128 characters of [A-Za-z0-9._:-]"
                                                      : "\"sha256:\" and 64 lowercase hex digits"));
}

void PutU32(Bytes& out, std::uint32_t v) {
  for (int shift = 0; shift < 32; shift += 8) out.push_back(static_cast<std::uint8_t>(v >> shift));
}

// The JSON object must be exactly {"type": string, "value": string}.
Result<LunalEvent> FromJson(const Json& json) {
  if (!json.is_object() || json.size() != 2 || !json.contains("type") || !json.contains("value") ||
      !json["type"].is_string() || !json["value"].is_string()) {
    return Malformed(
        "tdx.event_log.lunal.malformed",
        "a Lunal event is a JSON object of exactly two strings, \"type\" and \"value\"");
  }
  const std::string& name = json["type"].get_ref<const std::string&>();
  std::optional<LunalEventType> type = TypeFromName(name);
  if (!type) {
    return Unsupported("tdx.event_log.lunal.unknown_type", "unknown Lunal event type \"{}\"",
                       name.substr(0, 80));
  }
  LunalEvent event{.type = *type, .value = json["value"].get<std::string>()};
  if (!ValidValue(event.type, event.value)) {
    return BadValue(Code::kMalformed, event.type, event.value);
  }
  return event;
}

}  // namespace

std::string_view LunalEventTypeName(LunalEventType type) {
  switch (type) {
    case LunalEventType::kBuildHash:
      return "lunal.build-hash";
    case LunalEventType::kConfigHash:
      return "lunal.config-hash";
    case LunalEventType::kInstanceId:
      return "lunal.instance-id";
  }
  return "lunal.unknown";
}

Result<std::string> LunalEventJson(const LunalEvent& event) {
  if (!ValidValue(event.type, event.value)) {
    return BadValue(Code::kInvalidArgument, event.type, event.value);
  }
  return CanonicalJson(Json{{"type", LunalEventTypeName(event.type)}, {"value", event.value}});
}

Result<Bytes> EncodeLunalEvent(const LunalEvent& event) {
  LUNAL_ASSIGN_OR_RETURN(std::string json, LunalEventJson(event));
  Bytes out;
  out.reserve(8 + json.size());
  PutU32(out, kLunalTaggedEventId);
  PutU32(out, static_cast<std::uint32_t>(json.size()));  // ≤ kMaxLunalEventData by ValidValue
  out.insert(out.end(), json.begin(), json.end());
  return out;
}

bool ClaimsLunalEvent(ByteSpan event_data) {
  ByteReader r(event_data);
  Result<std::uint32_t> id = r.U32Le("tdx.event_log.lunal");
  return id.ok() && *id == kLunalTaggedEventId;
}

// 1. Tag id, size, exactly that much data.  2. Size bound.  3. Strict JSON of the one shape, a
// known type and a valid value.  4. Canonical: re-encoding gives the same bytes.
Result<LunalEvent> DecodeLunalEvent(ByteSpan event_data) {
  ByteReader r(event_data);
  LUNAL_ASSIGN_OR_RETURN(std::uint32_t id, r.U32Le("tdx.event_log.lunal"));  // 1
  if (id != kLunalTaggedEventId) {
    return Malformed("tdx.event_log.lunal.wrong_tag",
                     "tagged event id 0x{:08x} is not Lunal's (0x{:08x})", id, kLunalTaggedEventId);
  }
  LUNAL_ASSIGN_OR_RETURN(std::uint32_t size, r.U32Le("tdx.event_log.lunal"));
  if (size > kMaxLunalEventData) {  // 2
    return Malformed("tdx.event_log.lunal.too_large", "{} bytes of event data (at most {})", size,
                     kMaxLunalEventData);
  }
  LUNAL_ASSIGN_OR_RETURN(ByteSpan text, r.Bytes(size, "tdx.event_log.lunal.data"));
  LUNAL_RETURN_IF_ERROR(r.ExpectEnd("tdx.event_log.lunal"));
  LUNAL_ASSIGN_OR_RETURN(Json json, ParseJson(AsStringView(text), {.max_depth = 4}));  // 3
  LUNAL_ASSIGN_OR_RETURN(LunalEvent event, FromJson(json));
  LUNAL_ASSIGN_OR_RETURN(std::string canonical, LunalEventJson(event));  // 4
  if (canonical != AsStringView(text)) {
    return Malformed("tdx.event_log.lunal.not_canonical",
                     "event JSON is not in canonical form (expected {})", canonical);
  }
  return event;
}

}  // namespace lunal::attest::tdx
