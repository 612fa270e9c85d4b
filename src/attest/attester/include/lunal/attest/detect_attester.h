// Chooses the hardware attester for this machine:
//   1. configfs-tsm, when its report root exists (ConfigfsTsmAttester::Open);
//   2. else /dev/tdx_guest (TdxGuestDeviceAttester: TDREPORTs only, see guest_device.h);
//   3. else /dev/sev-guest (SevGuestDeviceAttester);
//   4. else kUnavailable attest.detect.none, the message listing each path tried.
// The simulated TEE is never detected: it is chosen explicitly by configuration. A configfs root
// that exists but fails to open (no provider, permission) is returned as that error rather than
// silently falling back: a broken configfs-tsm is worth knowing about.
#pragma once

#include <filesystem>
#include <memory>

#include "lunal/attest/attester.h"
#include "lunal/attest/configfs_tsm.h"
#include "lunal/attest/guest_device.h"
#include "lunal/common/result.h"

namespace lunal::attest {

struct DetectOptions {
  ConfigfsTsmOptions configfs;
  std::filesystem::path tdx_guest_device = std::filesystem::path(kTdxGuestDevice);
  SevGuestDeviceOptions sev_guest;
};

Result<std::unique_ptr<Attester>> DetectAttester(const DetectOptions& options = {});

}  // namespace lunal::attest
