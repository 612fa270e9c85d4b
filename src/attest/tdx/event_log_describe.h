// Internal: short printable descriptions of TCG event data, for people reading a replay.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "lunal/common/bytes.h"

namespace lunal::attest::tdx::internal {

inline constexpr std::size_t kMaxDescription = 100;

// A bounded, printable-ASCII hint of what `data` holds: the variable name of EV_EFI_VARIABLE_*
// events, the description of *_BLOB2 / HANDOFF_TABLES2 events, the tag and text of EV_EVENT_TAG,
// otherwise the printable ASCII and UTF-16LE runs of 4+ characters. Never fails; the data is
// unverified, so this is a hint only.
std::string DescribeEvent(std::uint32_t event_type, ByteSpan data);

// `text`, cut to kMaxDescription characters (ending in "...") when longer.
std::string ClipDescription(std::string text);

}  // namespace lunal::attest::tdx::internal
