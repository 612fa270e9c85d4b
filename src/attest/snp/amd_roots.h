// The embedded AMD certificates (amd_roots.cc). Private to attest/snp; the public interface is
// signatures.h (pins, parsed certificates).
#pragma once

#include <array>
#include <string_view>

#include "lunal/attest/snp/report.h"

namespace lunal::attest::snp::internal {

struct AmdRootPems {
  Product product;
  std::string_view ark;   // AMD Root Key, self-signed (trust anchor, pinned)
  std::string_view ask;   // AMD SEV Key: issues VCEKs
  std::string_view asvk;  // AMD SEV VLEK Key: issues VLEKs
};

const std::array<AmdRootPems, 3>& AmdRoots();  // Milan, Genoa, Turin

}  // namespace lunal::attest::snp::internal
