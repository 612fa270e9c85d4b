// TD_ATTRIBUTES decoding. Bit positions: TDX Module ABI specification, TDATTRIBUTES
// (quote_layout.h, namespace td_attributes).
#include <fmt/format.h>

#include <array>
#include <string>
#include <vector>

#include "lunal/attest/tdx/quote.h"
#include "lunal/attest/tdx/quote_layout.h"

namespace lunal::attest::tdx {
namespace {

namespace A = layout::td_attributes;

struct NamedBit {
  unsigned bit;
  const char* name;
};

constexpr std::array<NamedBit, 12> kNamedBits = {{
    {A::kDebugBit, "DEBUG"},
    {A::kHgsPlusProfBit, "HGS_PLUS_PROF"},
    {A::kPerfProfBit, "PERF_PROF"},
    {A::kPmtProfBit, "PMT_PROF"},
    {A::kIcssdBit, "ICSSD"},
    {A::kLassBit, "LASS"},
    {A::kSeptVeDisableBit, "SEPT_VE_DISABLE"},
    {A::kMigratableBit, "MIGRATABLE"},
    {A::kPksBit, "PKS"},
    {A::kKlBit, "KL"},
    {A::kTpaBit, "TPA"},
    {A::kPerfmonBit, "PERFMON"},
}};

}  // namespace

bool TdAttributes::debug() const { return Bit(A::kDebugBit); }
bool TdAttributes::sept_ve_disable() const { return Bit(A::kSeptVeDisableBit); }
bool TdAttributes::migratable() const { return Bit(A::kMigratableBit); }
bool TdAttributes::pks() const { return Bit(A::kPksBit); }
bool TdAttributes::kl() const { return Bit(A::kKlBit); }
bool TdAttributes::perfmon() const { return Bit(A::kPerfmonBit); }

std::vector<std::string> TdAttributes::FlagNames() const {
  std::vector<std::string> names;
  for (unsigned bit = 0; bit < 64; ++bit) {
    if (!Bit(bit)) continue;
    std::string name = fmt::format("BIT{}", bit);
    for (const NamedBit& named : kNamedBits) {
      if (named.bit == bit) name = named.name;
    }
    names.push_back(std::move(name));
  }
  return names;
}

}  // namespace lunal::attest::tdx
