// The node's event feed (event_feed.h) and the JSON forms of the wire types (node.h): order,
// long polls that wake on Publish, accounting of dropped events, strict parsing.
#include "lunal/node/event_feed.h"

#include <gtest/gtest.h>

#include <future>
#include <thread>

namespace lunal::node {
namespace {

using std::chrono::milliseconds;

NodeEvent Log(std::string line) {
  return NodeEvent{.kind = NodeEvent::Kind::kLog,
                   .instance = {.instance_id = "i-1", .tenant = "acme", .deployment = "api"},
                   .stream = "stdout",
                   .line = std::move(line)};
}

TEST(EventFeedTest, NumbersEventsInOrderAndResumesAfterNext) {
  EventFeed feed;
  EXPECT_EQ(feed.Publish(Log("a")), 1u);
  EXPECT_EQ(feed.Publish(Log("b")), 2u);
  EXPECT_EQ(feed.Publish(NodeEvent{.kind = NodeEvent::Kind::kReady}), 3u);
  EventBatch all = feed.Poll(0, milliseconds(0));
  ASSERT_EQ(all.events.size(), 3u);
  EXPECT_EQ(all.events[0].seq, 1u);
  EXPECT_EQ(all.events[0].event.line, "a");
  EXPECT_EQ(all.events[1].event.line, "b");
  EXPECT_EQ(all.events[2].event.kind, NodeEvent::Kind::kReady);
  EXPECT_EQ(all.next, 3u);
  EXPECT_EQ(all.dropped, 0u);

  EventBatch tail = feed.Poll(1, milliseconds(0));
  ASSERT_EQ(tail.events.size(), 2u);
  EXPECT_EQ(tail.events[0].seq, 2u);

  EventBatch none = feed.Poll(3, milliseconds(0));
  EXPECT_TRUE(none.events.empty());
  EXPECT_EQ(none.next, 3u);
  // A poller of an earlier node process (ahead of this feed) is told where to resume, at once.
  const auto start = std::chrono::steady_clock::now();
  EventBatch ahead = feed.Poll(500, milliseconds(5'000));
  EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(1'000));
  EXPECT_TRUE(ahead.events.empty());
  EXPECT_EQ(ahead.next, 3u);
}

// The epoch names a feed's numbering: the same in every answer of one feed, another for another
// feed (a restarted node), 128 random bits as lowercase hex.
TEST(EventFeedTest, EveryAnswerCarriesTheFeedsEpoch) {
  EventFeed feed;
  EventFeed restarted;
  EXPECT_EQ(feed.epoch().size(), 32u);
  EXPECT_EQ(feed.epoch().find_first_not_of("0123456789abcdef"), std::string::npos) << feed.epoch();
  EXPECT_NE(feed.epoch(), restarted.epoch());
  EXPECT_EQ(feed.Poll(0, std::chrono::milliseconds(0)).epoch, feed.epoch());
  feed.Publish(Log("a"));
  EXPECT_EQ(feed.Poll(0, std::chrono::milliseconds(0)).epoch, feed.epoch());
  EXPECT_EQ(feed.Poll(7, std::chrono::milliseconds(0)).epoch, feed.epoch());
}

TEST(EventFeedTest, LongPollWakesOnPublish) {
  EventFeed feed;
  feed.Publish(Log("first"));
  const auto start = std::chrono::steady_clock::now();
  auto poll = std::async(std::launch::async, [&] { return feed.Poll(1, milliseconds(20'000)); });
  std::this_thread::sleep_for(milliseconds(200));
  EXPECT_EQ(poll.wait_for(milliseconds(0)), std::future_status::timeout);  // still waiting
  feed.Publish(Log("second"));
  ASSERT_EQ(poll.wait_for(milliseconds(5'000)), std::future_status::ready);
  EventBatch batch = poll.get();
  EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(5'000));
  ASSERT_EQ(batch.events.size(), 1u);
  EXPECT_EQ(batch.events[0].seq, 2u);
  EXPECT_EQ(batch.events[0].event.line, "second");
  EXPECT_EQ(batch.next, 2u);
}

TEST(EventFeedTest, LongPollEndsAfterItsWaitAndOnClose) {
  EventFeed feed;
  const auto start = std::chrono::steady_clock::now();
  EventBatch empty = feed.Poll(0, milliseconds(300));
  EXPECT_GE(std::chrono::steady_clock::now() - start, milliseconds(290));
  EXPECT_TRUE(empty.events.empty());
  EXPECT_EQ(empty.next, 0u);

  auto poll = std::async(std::launch::async, [&] { return feed.Poll(0, milliseconds(20'000)); });
  std::this_thread::sleep_for(milliseconds(100));
  feed.Close();
  ASSERT_EQ(poll.wait_for(milliseconds(5'000)), std::future_status::ready);
  EXPECT_TRUE(poll.get().events.empty());
}

TEST(EventFeedTest, KeepsTheNewestAndCountsWhatAPollerMissed) {
  EventFeed feed(5);
  for (int i = 1; i <= 12; ++i) feed.Publish(Log(std::to_string(i)));
  EventBatch batch = feed.Poll(0, milliseconds(0));
  EXPECT_EQ(batch.dropped, 7u);  // 1..7 are gone
  ASSERT_EQ(batch.events.size(), 5u);
  EXPECT_EQ(batch.events.front().seq, 8u);
  EXPECT_EQ(batch.events.front().event.line, "8");
  EXPECT_EQ(batch.events.back().seq, 12u);
  EXPECT_EQ(batch.next, 12u);
  EventBatch partly = feed.Poll(5, milliseconds(0));
  EXPECT_EQ(partly.dropped, 2u);  // 6 and 7
  EXPECT_EQ(partly.events.front().seq, 8u);
  EventBatch kept = feed.Poll(9, milliseconds(0));
  EXPECT_EQ(kept.dropped, 0u);
  EXPECT_EQ(kept.events.size(), 3u);
}

TEST(EventFeedTest, DefaultCapacityIsTenThousandAndBatchesAreBounded) {
  EventFeed feed;
  for (int i = 0; i < 10'050; ++i) feed.Publish(Log("x"));
  EventBatch batch = feed.Poll(0, milliseconds(0));
  EXPECT_EQ(batch.dropped, 50u);
  ASSERT_EQ(batch.events.size(), EventFeed::kMaxBatch);
  EXPECT_EQ(batch.events.front().seq, 51u);
  EXPECT_EQ(batch.next, 50u + EventFeed::kMaxBatch);
}

TEST(EventFeedTest, PublishersOnManyThreadsGetDistinctConsecutiveNumbers) {
  EventFeed feed;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 250; ++i) feed.Publish(Log("l"));
    });
  }
  for (auto& t : threads) t.join();
  EventBatch batch = feed.Poll(0, milliseconds(0));
  ASSERT_EQ(batch.events.size(), 1000u);
  for (std::size_t i = 0; i < batch.events.size(); ++i) EXPECT_EQ(batch.events[i].seq, i + 1);
}

TEST(NodeWireJsonTest, InstanceStatusRoundTripsAndIsStrict) {
  InstanceStatus s{.instance_id = "i-1",
                   .tenant = "acme",
                   .deployment = "api",
                   .build_hash = "sha256:" + std::string(64, 'a'),
                   .state = InstanceState::kFailed,
                   .address = "127.0.0.1:4000",
                   .pid = 42,
                   .evidence = Json{{"quote", "AAAA"}},
                   .nonce = "n",
                   .certificate_pem = "pem",
                   .started_at = *ParseRfc3339("2026-11-21T12:00:00.5Z"),
                   .reason = "node.instance.failed",
                   .message = "boom"};
  auto back = InstanceStatusFromJson(ToJson(s));
  ASSERT_TRUE(back.ok()) << back.error();
  EXPECT_EQ(ToJson(*back), ToJson(s));
  EXPECT_EQ(back->state, InstanceState::kFailed);
  EXPECT_EQ(back->started_at, s.started_at);
  EXPECT_EQ(back->pid, 42);

  Json extra = ToJson(s);
  extra["command"] = "sh";
  EXPECT_EQ(InstanceStatusFromJson(extra).error().reason(), "node.json.bad_field");
  Json bad_state = ToJson(s);
  bad_state["state"] = "sleeping";
  EXPECT_EQ(InstanceStatusFromJson(bad_state).error().reason(), "node.json.bad_field");
  Json no_pid = ToJson(s);
  no_pid.erase("pid");
  EXPECT_FALSE(InstanceStatusFromJson(no_pid).ok());
}

TEST(NodeWireJsonTest, LaunchRequestRoundTripsAndRefusesUnknownMembers) {
  LaunchRequest r{.tenant = "acme",
                  .deployment = "api",
                  .instance_id = "i-1",
                  .build_hash = "sha256:" + std::string(64, 'b'),
                  .manifest_json = "{\"x\":1}",
                  .artifact = "/tmp/app.tar",
                  .env = {{"GREETING", "hi"}}};
  auto back = LaunchRequestFromJson(ToJson(r));
  ASSERT_TRUE(back.ok()) << back.error();
  EXPECT_EQ(back->manifest_json, r.manifest_json);
  EXPECT_EQ(back->artifact, r.artifact);
  EXPECT_EQ(back->env, r.env);
  Json command = ToJson(r);
  command["command"] = Json::array({"/bin/sh"});
  auto refused = LaunchRequestFromJson(command);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().reason(), "node.request.bad_field");
  EXPECT_EQ(refused.error().code(), Code::kInvalidArgument);
}

TEST(NodeWireJsonTest, SequencedEventRoundTrips) {
  SequencedEvent e{.seq = 7, .event = Log("hello")};
  auto back = SequencedEventFromJson(ToJson(e));
  ASSERT_TRUE(back.ok()) << back.error();
  EXPECT_EQ(back->seq, 7u);
  EXPECT_EQ(back->event.kind, NodeEvent::Kind::kLog);
  EXPECT_EQ(back->event.line, "hello");
  EXPECT_EQ(back->event.instance.instance_id, "i-1");
  Json j = ToJson(e);
  EXPECT_EQ(j["kind"], "log");
  j["kind"] = "bogus";
  EXPECT_FALSE(SequencedEventFromJson(j).ok());
}

}  // namespace
}  // namespace lunal::node
