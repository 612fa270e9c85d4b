#include "test_collateral.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "lunal/testing/testing.h"

namespace lunal::attest::tdx::testing {

std::filesystem::path CollateralDir() {
  return lunal::testing::SharedDir() / "evidence" / "collateral" / "intel";
}

std::string ReadCollateral(std::string_view name) {
  return lunal::testing::ReadFileText(CollateralDir() / name);
}

std::vector<std::string> CollateralFiles(std::string_view prefix) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(CollateralDir())) {
    std::string name = entry.path().filename().string();
    if (name.starts_with(prefix)) names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::string ReplaceOnce(std::string text, std::string_view from, std::string_view to) {
  std::size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << "\"" << from << "\" not found";
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

}  // namespace lunal::attest::tdx::testing
