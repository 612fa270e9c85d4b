#include "der_writer.h"

#include <charconv>
#include <cstdlib>

namespace lunal::attest::sim::internal::der {
namespace {

// X.690 §8.1.3: short form below 128, else 0x80|n followed by n big-endian length bytes.
void PutLength(Bytes& out, std::size_t length) {
  if (length < 0x80) {
    out.push_back(static_cast<std::uint8_t>(length));
    return;
  }
  Bytes be;
  for (std::size_t n = length; n > 0; n >>= 8) be.insert(be.begin(), static_cast<std::uint8_t>(n));
  out.push_back(static_cast<std::uint8_t>(0x80 | be.size()));
  out.insert(out.end(), be.begin(), be.end());
}

// X.690 §8.19.2: base-128, high bit set on every byte but the last.
void PutBase128(Bytes& out, std::uint64_t value) {
  Bytes digits = {static_cast<std::uint8_t>(value & 0x7f)};
  for (value >>= 7; value > 0; value >>= 7) {
    digits.insert(digits.begin(), static_cast<std::uint8_t>(0x80 | (value & 0x7f)));
  }
  out.insert(out.end(), digits.begin(), digits.end());
}

}  // namespace

Bytes Tlv(std::uint8_t tag, ByteSpan contents) {
  Bytes out = {tag};
  PutLength(out, contents.size());
  out.insert(out.end(), contents.begin(), contents.end());
  return out;
}

Bytes Unsigned(std::uint8_t tag, std::uint64_t value) {
  Bytes contents;
  do {
    contents.insert(contents.begin(), static_cast<std::uint8_t>(value & 0xff));
    value >>= 8;
  } while (value > 0);
  if ((contents.front() & 0x80) != 0) contents.insert(contents.begin(), 0x00);
  return Tlv(tag, contents);
}

Bytes OctetString(ByteSpan bytes) { return Tlv(kOctetString, bytes); }

Bytes Boolean(bool value) {
  const std::uint8_t contents[] = {static_cast<std::uint8_t>(value ? 0xff : 0x00)};
  return Tlv(kBoolean, contents);
}

Bytes Oid(std::string_view dotted) {
  std::vector<std::uint64_t> arcs;
  while (!dotted.empty()) {
    std::size_t dot = dotted.find('.');
    std::string_view arc = dotted.substr(0, dot);
    std::uint64_t value = 0;
    auto [end, ec] = std::from_chars(arc.data(), arc.data() + arc.size(), value);
    if (ec != std::errc() || end != arc.data() + arc.size()) std::abort();
    arcs.push_back(value);
    dotted = dot == std::string_view::npos ? std::string_view() : dotted.substr(dot + 1);
  }
  if (arcs.size() < 2 || arcs[0] > 2) std::abort();
  Bytes contents;
  PutBase128(contents,
             arcs[0] * 40 + arcs[1]);  // §8.19.4: the first two arcs share a subidentifier
  for (std::size_t i = 2; i < arcs.size(); ++i) PutBase128(contents, arcs[i]);
  return Tlv(kOid, contents);
}

Bytes Sequence(const std::vector<Bytes>& elements) {
  Bytes contents;
  for (const Bytes& e : elements) contents.insert(contents.end(), e.begin(), e.end());
  return Tlv(kSequence, contents);
}

}  // namespace lunal::attest::sim::internal::der
