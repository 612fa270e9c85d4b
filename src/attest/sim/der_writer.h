// A minimal DER writer (ITU-T X.690 §8, §10: definite minimal lengths, minimal INTEGER contents)
// for the one structure attest/sim encodes itself: Intel's SGX extension of the PCK certificate
// (sim_pki.cc). Everything else X.509 goes through lunal::crypto. Private to attest/sim.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "lunal/common/bytes.h"

namespace lunal::attest::sim::internal::der {

inline constexpr std::uint8_t kBoolean = 0x01;
inline constexpr std::uint8_t kInteger = 0x02;
inline constexpr std::uint8_t kOctetString = 0x04;
inline constexpr std::uint8_t kOid = 0x06;
inline constexpr std::uint8_t kEnumerated = 0x0A;
inline constexpr std::uint8_t kSequence = 0x30;

// tag ‖ length ‖ contents.
Bytes Tlv(std::uint8_t tag, ByteSpan contents);
// A non-negative INTEGER or ENUMERATED, minimal (a leading 00 only when the top bit is set).
Bytes Unsigned(std::uint8_t tag, std::uint64_t value);
Bytes OctetString(ByteSpan bytes);
Bytes Boolean(bool value);
// An OBJECT IDENTIFIER from dotted text with at least two arcs, the first 0..2 (X.690 §8.19).
// The OIDs used here are compile-time constants; a malformed one is a programming error and
// aborts.
Bytes Oid(std::string_view dotted);
// SEQUENCE of the concatenated elements.
Bytes Sequence(const std::vector<Bytes>& elements);

}  // namespace lunal::attest::sim::internal::der
