// Single-flight: concurrent callers asking for the same key share one execution of the work.
// Private to attest/collateral.
//
// The first caller for a key runs `work`; callers arriving while it runs wait and receive its
// Status. A caller arriving after it finished starts a new flight, so `work` must itself check
// whether it is still needed (the sources re-check their cache first).
//
// Thread-safety: Do may be called from many threads.
#pragma once

#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "lunal/common/status.h"

namespace lunal::attest::collateral::internal {

class SingleFlight {
 public:
  Status Do(const std::string& key, const std::function<Status()>& work);

 private:
  struct Call {
    bool done = false;
    Status status;
  };
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, std::shared_ptr<Call>> calls_;
};

}  // namespace lunal::attest::collateral::internal
