// A bounded, in-memory feed of the node's events (issue 8: a control plane in another process
// follows the node over HTTP, `GET /v1/node/events`, http.h).
//
// Every NodeEvent published gets the next sequence number (1, 2, …; kLog lines included) within
// the feed's epoch: a random id per feed (per node process), so that a poller that saved its
// place (epoch, next) can tell a restarted node, whose numbers start again at 1, from the one it
// was following (control::RemoteNode's cursor file). The feed
// keeps the newest `capacity` events (10,000 by default); older ones are dropped, and a poller
// asking for a range that is gone is told how many it missed (EventBatch::dropped) and resumes at
// the oldest kept event.
//
// Publish never waits for a poller: it takes one short internal lock, appends, and wakes the
// waiting pollers, so it is safe as NodeOptions::on_event (called from the node's threads).
// Poll long-polls: it returns at once when events after `after` exist, else waits up to `wait`
// (or until Close).
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "lunal/common/json.h"
#include "lunal/common/result.h"
#include "lunal/node/node.h"

namespace lunal::node {

struct SequencedEvent {
  std::uint64_t seq = 0;
  NodeEvent event = {};
};

struct EventBatch {
  std::vector<SequencedEvent> events = {};  // ascending seq, all > the poll's `after`
  std::uint64_t next = 0;                   // poll again with after = next
  std::uint64_t dropped = 0;                // events after `after` no longer held
  std::string epoch = {};                   // the feed's (EventFeed::epoch)
};

class EventFeed {
 public:
  static constexpr std::size_t kDefaultCapacity = 10'000;
  static constexpr std::size_t kMaxBatch = 1'000;  // events per Poll answer

  explicit EventFeed(std::size_t capacity = kDefaultCapacity);
  EventFeed(const EventFeed&) = delete;
  EventFeed& operator=(const EventFeed&) = delete;

  // Appends `event` with the next sequence number and returns that number.
  std::uint64_t Publish(NodeEvent event);
  // A NodeOptions::on_event that publishes here (the feed must outlive the node).
  std::function<void(const NodeEvent&)> Sink();

  // The events after `after` (at most kMaxBatch), waiting up to `wait` for the first one. An
  // `after` beyond the newest sequence number (a poller of an earlier node process) is answered at
  // once, empty, with next = the newest: the poller resumes from there.
  EventBatch Poll(std::uint64_t after, std::chrono::milliseconds wait);

  // Wakes every waiting Poll (they answer with what they have) and makes later Polls not wait.
  void Close();

  std::uint64_t newest() const;  // 0 before the first event
  // 32 lowercase hex digits from the system CSPRNG, fixed for the feed's life.
  const std::string& epoch() const { return epoch_; }

 private:
  EventBatch Collect(std::uint64_t after) const;  // mu_ held

  const std::size_t capacity_;
  const std::string epoch_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<SequencedEvent> events_;
  std::uint64_t newest_ = 0;
  bool closed_ = false;
};

std::string_view NodeEventKindName(NodeEvent::Kind kind);  // "launch_refused", "ready", …
// {"seq", "kind", "instance": ToJson(InstanceStatus), "stream", "line"}
Json ToJson(const SequencedEvent& event);
// Strict: unknown members and wrong types are Malformed "node.json.bad_field".
Result<SequencedEvent> SequencedEventFromJson(const Json& doc);

}  // namespace lunal::node
