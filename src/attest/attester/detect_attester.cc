#include "lunal/attest/detect_attester.h"

#include <sys/stat.h>

#include <cerrno>
#include <string>

namespace lunal::attest {

namespace {
// "absent" or the reason the path could not be looked at.
bool Exists(const std::filesystem::path& path, std::string& why_not) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) return true;
  why_not = errno == ENOENT ? "absent" : fmt::format("stat failed, errno {}", errno);
  return false;
}
}  // namespace

Result<std::unique_ptr<Attester>> DetectAttester(const DetectOptions& options) {
  std::string configfs_why, tdx_why, sev_why;
  if (Exists(options.configfs.root, configfs_why)) {
    LUNAL_ASSIGN_OR_RETURN(std::unique_ptr<ConfigfsTsmAttester> attester,
                           ConfigfsTsmAttester::Open(options.configfs));
    return std::unique_ptr<Attester>(std::move(attester));
  }
  if (Exists(options.tdx_guest_device, tdx_why)) {
    return std::unique_ptr<Attester>(new TdxGuestDeviceAttester(options.tdx_guest_device));
  }
  if (Exists(options.sev_guest.device, sev_why)) {
    return std::unique_ptr<Attester>(new SevGuestDeviceAttester(options.sev_guest));
  }
  return Unavailable("attest.detect.none",
                     "no TEE attester on this machine: tried configfs-tsm at {} ({}), {} ({}), "
                     "{} ({}); the simulated TEE is only used when configured explicitly",
                     options.configfs.root.string(), configfs_why,
                     options.tdx_guest_device.string(), tdx_why, options.sev_guest.device.string(),
                     sev_why);
}

}  // namespace lunal::attest
