// Names of TCG event types and algorithms, and short descriptions of event data.
// Event types: TCG PC Client Platform Firmware Profile (PFP) r1.06, Table 9 "Events". Event
// data structures, by their PFP names: UEFI_VARIABLE_DATA, UEFI_PLATFORM_FIRMWARE_BLOB2,
// UEFI_HANDOFF_TABLE_POINTERS2, TCG_PCClientTaggedEvent (r1.05 §10.2.6).
#include "event_log_describe.h"

#include <fmt/format.h>

#include <iterator>
#include <string_view>
#include <utility>

#include "lunal/attest/tdx/event_log.h"
#include "lunal/common/byte_reader.h"

namespace lunal::attest::tdx {
namespace {

constexpr std::uint32_t kEvEfiBase = 0x80000000;

std::string_view StandardTypeName(std::uint32_t type) {
  // Indexed by type: EV_PREBOOT_CERT is 0x00, EV_POST_CODE2 is 0x13.
  static constexpr std::string_view kNames[] = {
      "EV_PREBOOT_CERT",             // 0x00
      "EV_POST_CODE",                // 0x01
      "EV_UNUSED",                   // 0x02
      "EV_NO_ACTION",                // 0x03
      "EV_SEPARATOR",                // 0x04
      "EV_ACTION",                   // 0x05
      "EV_EVENT_TAG",                // 0x06
      "EV_S_CRTM_CONTENTS",          // 0x07
      "EV_S_CRTM_VERSION",           // 0x08
      "EV_CPU_MICROCODE",            // 0x09
      "EV_PLATFORM_CONFIG_FLAGS",    // 0x0A
      "EV_TABLE_OF_DEVICES",         // 0x0B
      "EV_COMPACT_HASH",             // 0x0C
      "EV_IPL",                      // 0x0D
      "EV_IPL_PARTITION_DATA",       // 0x0E
      "EV_NONHOST_CODE",             // 0x0F
      "EV_NONHOST_CONFIG",           // 0x10
      "EV_NONHOST_INFO",             // 0x11
      "EV_OMIT_BOOT_DEVICE_EVENTS",  // 0x12
      "EV_POST_CODE2",               // 0x13
  };
  return type < std::size(kNames) ? kNames[type] : std::string_view();
}

std::string_view EfiTypeName(std::uint32_t type) {
  switch (type - kEvEfiBase) {
    case 0x01:
      return "EV_EFI_VARIABLE_DRIVER_CONFIG";
    case 0x02:
      return "EV_EFI_VARIABLE_BOOT";
    case 0x03:
      return "EV_EFI_BOOT_SERVICES_APPLICATION";
    case 0x04:
      return "EV_EFI_BOOT_SERVICES_DRIVER";
    case 0x05:
      return "EV_EFI_RUNTIME_SERVICES_DRIVER";
    case 0x06:
      return "EV_EFI_GPT_EVENT";
    case 0x07:
      return "EV_EFI_ACTION";
    case 0x08:
      return "EV_EFI_PLATFORM_FIRMWARE_BLOB";
    case 0x09:
      return "EV_EFI_HANDOFF_TABLES";
    case 0x0A:
      return "EV_EFI_PLATFORM_FIRMWARE_BLOB2";
    case 0x0B:
      return "EV_EFI_HANDOFF_TABLES2";
    case 0x0C:
      return "EV_EFI_VARIABLE_BOOT2";
    case 0x0D:
      return "EV_EFI_GPT_EVENT2";
    case 0x10:
      return "EV_EFI_HCRTM_EVENT";
    case 0xE0:
      return "EV_EFI_VARIABLE_AUTHORITY";
    case 0xE1:
      return "EV_EFI_SPDM_FIRMWARE_BLOB";
    case 0xE2:
      return "EV_EFI_SPDM_FIRMWARE_CONFIG";
    case 0xE3:
      return "EV_EFI_SPDM_DEVICE_POLICY";
    case 0xE4:
      return "EV_EFI_SPDM_DEVICE_AUTHORITY";
    default:
      return {};
  }
}

// Collects runs of 4+ printable characters, each either ASCII (c c c) or UTF-16LE (c 0 c 0),
// separated by spaces, up to a bound.
class TextRuns {
 public:
  void Add(std::uint8_t b) {
    if (out_.size() > internal::kMaxDescription) return;
    if (b >= 0x20 && b < 0x7F) {
      if (pending_zero_) {  // c 0 c: UTF-16LE, unless the run is ASCII (then 0 ended it)
        if (mode_ == Mode::kAscii)
          Flush();
        else
          mode_ = Mode::kUtf16;
      } else if (after_char_) {  // c c: ASCII, unless the run is UTF-16
        if (mode_ == Mode::kUtf16)
          Flush();
        else
          mode_ = Mode::kAscii;
      }
      if (run_.size() <= internal::kMaxDescription) run_.push_back(static_cast<char>(b));
      after_char_ = true;
      pending_zero_ = false;
      return;
    }
    if (b == 0 && after_char_ && mode_ != Mode::kAscii) {
      pending_zero_ = true;
      after_char_ = false;
      return;
    }
    Flush();
  }
  void Add(ByteSpan bytes) {
    for (std::uint8_t b : bytes) Add(b);
  }
  std::string Finish() {
    Flush();
    return std::move(out_);
  }

 private:
  enum class Mode { kNone, kAscii, kUtf16 };
  void Flush() {
    if (run_.size() >= 4) {
      if (!out_.empty()) out_ += ' ';
      out_ += run_;
    }
    run_.clear();
    mode_ = Mode::kNone;
    after_char_ = pending_zero_ = false;
  }

  std::string out_, run_;
  Mode mode_ = Mode::kNone;
  bool after_char_ = false, pending_zero_ = false;
};

std::string Runs(ByteSpan data) {
  TextRuns runs;
  runs.Add(data);
  return runs.Finish();
}

// UEFI_VARIABLE_DATA: VariableName GUID(16) | UnicodeNameLength u64 | VariableDataLength u64 |
// UnicodeName CHAR16[UnicodeNameLength] | VariableData. The description is the name.
Result<std::string> VariableName(ByteSpan data) {
  ByteReader r(data);
  LUNAL_RETURN_IF_ERROR(r.Skip(16, "var.guid"));
  LUNAL_ASSIGN_OR_RETURN(std::uint64_t chars, r.U64Le("var.name_length"));
  LUNAL_RETURN_IF_ERROR(r.Skip(8, "var.data_length"));
  std::string name;
  for (std::uint64_t i = 0; i < chars && name.size() < internal::kMaxDescription; ++i) {
    LUNAL_ASSIGN_OR_RETURN(std::uint16_t c, r.U16Le("var.name"));
    name.push_back(c >= 0x20 && c < 0x7F ? static_cast<char>(c) : '?');
  }
  return name;
}

// UEFI_PLATFORM_FIRMWARE_BLOB2 and UEFI_HANDOFF_TABLE_POINTERS2 start with u8 size | text.
Result<std::string> SizedDescription(ByteSpan data) {
  ByteReader r(data);
  LUNAL_ASSIGN_OR_RETURN(std::uint8_t size, r.U8("desc.size"));
  LUNAL_ASSIGN_OR_RETURN(ByteSpan text, r.Bytes(size, "desc.text"));
  return Runs(text);
}

// TCG_PCClientTaggedEvent: taggedEventID u32 | taggedEventDataSize u32 | taggedEventData.
Result<std::string> TaggedEvent(ByteSpan data) {
  ByteReader r(data);
  LUNAL_ASSIGN_OR_RETURN(std::uint32_t id, r.U32Le("tag.id"));
  LUNAL_ASSIGN_OR_RETURN(std::uint32_t size, r.U32Le("tag.size"));
  LUNAL_ASSIGN_OR_RETURN(ByteSpan text, r.Bytes(size, "tag.data"));
  LUNAL_RETURN_IF_ERROR(r.ExpectEnd("tag"));
  return fmt::format("tag 0x{:08x}: {}", id, Runs(text));
}

Result<std::string> Structured(std::uint32_t type, ByteSpan data) {
  switch (type) {
    case kEvEfiBase + 0x01:
    case kEvEfiBase + 0x02:
    case kEvEfiBase + 0x0C:
    case kEvEfiBase + 0xE0:
      return VariableName(data);
    case kEvEfiBase + 0x0A:
    case kEvEfiBase + 0x0B:
      return SizedDescription(data);
    case kEvEventTag:
      return TaggedEvent(data);
    case kEvSeparator: {
      ByteReader r(data);
      LUNAL_ASSIGN_OR_RETURN(std::uint32_t value, r.U32Le("separator"));
      LUNAL_RETURN_IF_ERROR(r.ExpectEnd("separator"));
      return fmt::format("separator 0x{:08x}", value);
    }
    default:
      return Runs(data);
  }
}

}  // namespace

std::string EventTypeName(std::uint32_t event_type) {
  std::string_view name =
      event_type >= kEvEfiBase ? EfiTypeName(event_type) : StandardTypeName(event_type);
  return name.empty() ? fmt::format("0x{:08x}", event_type) : std::string(name);
}

std::string AlgorithmName(std::uint16_t algorithm_id) {
  switch (algorithm_id) {
    case kTpmAlgSha1:
      return "SHA-1";
    case kTpmAlgSha256:
      return "SHA-256";
    case kTpmAlgSha384:
      return "SHA-384";
    case kTpmAlgSha512:
      return "SHA-512";
    case kTpmAlgSm3_256:
      return "SM3-256";
    default:
      return fmt::format("0x{:04x}", algorithm_id);
  }
}

namespace internal {

std::string ClipDescription(std::string text) {
  if (text.size() > kMaxDescription) {
    text.resize(kMaxDescription - 3);
    text += "...";
  }
  return text;
}

std::string DescribeEvent(std::uint32_t event_type, ByteSpan data) {
  Result<std::string> structured = Structured(event_type, data);
  return ClipDescription(structured.ok() ? *std::move(structured) : Runs(data));
}

}  // namespace internal
}  // namespace lunal::attest::tdx
