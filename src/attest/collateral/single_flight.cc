#include "single_flight.h"

namespace lunal::attest::collateral::internal {

Status SingleFlight::Do(const std::string& key, const std::function<Status()>& work) {
  std::unique_lock lock(mu_);
  auto it = calls_.find(key);
  if (it != calls_.end()) {
    std::shared_ptr<Call> call = it->second;
    cv_.wait(lock, [&] { return call->done; });
    return call->status;
  }
  auto call = std::make_shared<Call>();
  calls_.emplace(key, call);
  lock.unlock();
  Status status = work();
  lock.lock();
  call->status = status;
  call->done = true;
  calls_.erase(key);
  cv_.notify_all();
  return status;
}

}  // namespace lunal::attest::collateral::internal
