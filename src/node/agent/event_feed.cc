// The node's event feed (event_feed.h).
#include "lunal/node/event_feed.h"

#include <algorithm>

#include "lunal/common/encoding.h"
#include "lunal/crypto/random.h"

namespace lunal::node {

EventFeed::EventFeed(std::size_t capacity)
    : capacity_(std::max<std::size_t>(capacity, 1)), epoch_(HexEncode(crypto::RandomBytes(16))) {}

std::uint64_t EventFeed::Publish(NodeEvent event) {
  std::uint64_t seq = 0;
  {
    std::lock_guard lock(mu_);
    seq = ++newest_;
    events_.push_back(SequencedEvent{.seq = seq, .event = std::move(event)});
    while (events_.size() > capacity_) events_.pop_front();
  }
  cv_.notify_all();
  return seq;
}

std::function<void(const NodeEvent&)> EventFeed::Sink() {
  return [this](const NodeEvent& event) { Publish(event); };
}

EventBatch EventFeed::Collect(std::uint64_t after) const {
  EventBatch batch;
  batch.epoch = epoch_;
  if (after >= newest_) {
    batch.next = newest_;
    return batch;
  }
  // events_ holds [oldest, newest_] contiguously.
  const std::uint64_t oldest = events_.empty() ? newest_ + 1 : events_.front().seq;
  std::uint64_t from = after + 1;
  if (from < oldest) {
    batch.dropped = oldest - from;
    from = oldest;
  }
  batch.next = from - 1;
  for (std::size_t i = static_cast<std::size_t>(from - oldest);
       i < events_.size() && batch.events.size() < kMaxBatch; ++i) {
    batch.events.push_back(events_[i]);
    batch.next = events_[i].seq;
  }
  return batch;
}

EventBatch EventFeed::Poll(std::uint64_t after, std::chrono::milliseconds wait) {
  std::unique_lock lock(mu_);
  // Only a poller that is caught up waits: one from the future is answered at once.
  if (after == newest_ && !closed_ && wait.count() > 0) {
    cv_.wait_for(lock, wait, [&] { return closed_ || newest_ > after; });
  }
  return Collect(after);
}

void EventFeed::Close() {
  {
    std::lock_guard lock(mu_);
    closed_ = true;
  }
  cv_.notify_all();
}

std::uint64_t EventFeed::newest() const {
  std::lock_guard lock(mu_);
  return newest_;
}

}  // namespace lunal::node
