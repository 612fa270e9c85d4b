// HttpServer connection lifecycle: keep-alive, timeouts, graceful and forced Stop, threads.
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "lunal/net/client.h"
#include "lunal/net/errors.h"
#include "lunal/net/server.h"
#include "test_support.h"

namespace lunal::net {
namespace {

using std::chrono::milliseconds;
using testing::FastClient;
using testing::LocalUrl;
using testing::RawSocket;
using testing::StartServer;
using testing::StatusOf;
using testing::TestRouter;

TEST(HttpServerTest, KeepAliveServesTwoRequestsOnOneConnection) {
  auto server = StartServer({}, TestRouter());
  HttpClient client(FastClient());
  for (int i = 0; i < 2; ++i) {
    Result<HttpResponse> response = client.Send({.url = LocalUrl(*server, "/v1/things/1")});
    ASSERT_TRUE(response.ok()) << response.error().ToString();
    EXPECT_EQ(response->status, 200);
  }
  ServerStats stats = server->stats();
  EXPECT_EQ(stats.accepted_connections, 1u);
  EXPECT_EQ(stats.requests_served, 2u);
}

TEST(HttpServerTest, HandlerCanCloseTheConnection) {
  auto server = StartServer({}, TestRouter());
  HttpClient client(FastClient());
  for (int i = 0; i < 2; ++i) {
    Result<HttpResponse> response = client.Send({.url = LocalUrl(*server, "/bye")});
    ASSERT_TRUE(response.ok()) << response.error().ToString();
    EXPECT_EQ(response->Header("Connection"), "close");
  }
  EXPECT_EQ(server->stats().accepted_connections, 2u);
}

TEST(HttpServerTest, ClientReconnectsOnceWhenKeptAliveConnectionWentStale) {
  ServerOptions options;
  options.idle_timeout = milliseconds(100);
  auto server = StartServer(options, TestRouter());
  HttpClient client(FastClient());
  ASSERT_TRUE(client.Send({.url = LocalUrl(*server, "/v1/things/1")}).ok());
  // Wait (bounded) until the server has closed the idle connection.
  for (int i = 0; i < 300 && server->stats().active_connections > 0; ++i) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  ASSERT_EQ(server->stats().active_connections, 0u);
  Result<HttpResponse> again = client.Send({.url = LocalUrl(*server, "/v1/things/2")});
  ASSERT_TRUE(again.ok()) << again.error().ToString();
  EXPECT_EQ(again->status, 200);
  EXPECT_EQ(server->stats().accepted_connections, 2u);
}

TEST(HttpServerTest, SlowClientIsDisconnectedAfterReadTimeout) {
  ServerOptions options;
  options.read_timeout = milliseconds(300);
  auto server = StartServer(options, TestRouter());
  RawSocket socket(server->port());
  ASSERT_TRUE(socket.Send("GET /v1/thi"));  // half a request line, then nothing
  auto start = std::chrono::steady_clock::now();
  bool closed = false;
  std::string raw = socket.ReadUntilClosed(milliseconds(3000), &closed);
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(closed) << "server kept the slow connection open";
  EXPECT_GE(elapsed, milliseconds(250));  // it was the timeout, not an immediate rejection
  EXPECT_EQ(raw, "");
  // A connection that never sends anything is closed too.
  RawSocket silent(server->port());
  silent.ReadUntilClosed(milliseconds(3000), &closed);
  EXPECT_TRUE(closed);
}

TEST(HttpServerTest, IdleKeptAliveConnectionIsClosedAfterIdleTimeout) {
  ServerOptions options;
  options.idle_timeout = milliseconds(200);
  auto server = StartServer(options, TestRouter());
  RawSocket socket(server->port());
  ASSERT_TRUE(socket.Send("GET /v1/things/1 HTTP/1.1\r\nHost: x\r\n\r\n"));
  bool closed = false;
  std::string raw = socket.ReadUntilClosed(milliseconds(3000), &closed);
  EXPECT_EQ(StatusOf(raw), 200) << raw;
  EXPECT_TRUE(closed);
}

TEST(HttpServerTest, GracefulStopFinishesInFlightRequestThenRefusesConnections) {
  std::promise<void> entered;
  Router router;
  ASSERT_TRUE(router
                  .Add("GET", "/work",
                       [&entered](HttpRequest&) {
                         entered.set_value();
                         std::this_thread::sleep_for(milliseconds(200));
                         return HttpResponse::Text(200, "done");
                       })
                  .ok());
  auto server = StartServer({}, std::move(router));
  std::uint16_t port = server->port();
  // An idle kept-alive connection must not hold Stop for the whole grace period.
  RawSocket idle(port);
  ASSERT_TRUE(idle.connected());

  std::future<Result<HttpResponse>> in_flight = std::async(std::launch::async, [&] {
    HttpClient client(FastClient());
    return client.Send({.url = LocalUrl(*server, "/work")});
  });
  entered.get_future().wait();
  auto start = std::chrono::steady_clock::now();
  server->Stop(milliseconds(2000));
  auto stop_took = std::chrono::steady_clock::now() - start;

  Result<HttpResponse> response = in_flight.get();
  ASSERT_TRUE(response.ok()) << response.error().ToString();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "done");
  EXPECT_EQ(response->Header("Connection"), "close");
  EXPECT_LT(stop_took, milliseconds(1500));
  EXPECT_FALSE(testing::CanConnect(port));
  bool closed = false;
  idle.ReadUntilClosed(milliseconds(1000), &closed);
  EXPECT_TRUE(closed);
  server->Stop(milliseconds(2000));  // idempotent
}

TEST(HttpServerTest, StopAfterGraceDropsResponsesStillBeingMade) {
  std::promise<void> entered;
  Router router;
  ASSERT_TRUE(router
                  .Add("GET", "/stuck",
                       [&entered](HttpRequest&) {
                         entered.set_value();
                         std::this_thread::sleep_for(milliseconds(400));
                         return HttpResponse::Text(200, "too late");
                       })
                  .ok());
  auto server = StartServer({}, std::move(router));
  std::uint16_t port = server->port();
  std::future<Result<HttpResponse>> in_flight = std::async(std::launch::async, [&] {
    HttpClient client(FastClient());
    return client.Send({.url = LocalUrl(*server, "/stuck")});
  });
  entered.get_future().wait();
  server->Stop(milliseconds(50));  // shorter than the handler: its response never goes out
  Result<HttpResponse> response = in_flight.get();
  EXPECT_FALSE(response.ok()) << response->body;
  EXPECT_FALSE(testing::CanConnect(port));
}

TEST(HttpServerTest, LifecycleErrors) {
  auto server = StartServer({}, TestRouter());
  EXPECT_EQ(server->Start().reason(), "net.server_state");

  ServerOptions same_port;
  same_port.port = server->port();
  HttpServer second(same_port, TestRouter());
  Status bind = second.Start();
  EXPECT_EQ(bind.code(), Code::kUnavailable);
  EXPECT_EQ(bind.reason(), "net.bind_failed");
  EXPECT_NE(bind.message().find("127.0.0.1:" + std::to_string(server->port())), std::string::npos)
      << bind.message();

  ServerOptions bad;
  bad.bind_address = "localhost";  // names are not resolved
  EXPECT_EQ(HttpServer(bad, Router()).Start().reason(), "net.bad_options");
  bad = ServerOptions();
  bad.threads = 0;
  EXPECT_EQ(HttpServer(bad, Router()).Start().reason(), "net.bad_options");

  server->Stop(milliseconds(0));
  EXPECT_EQ(server->Start().reason(), "net.server_state");
  HttpServer never_started{ServerOptions(), Router()};
  never_started.Stop(milliseconds(0));
}

TEST(HttpServerTest, ManyClientsOnManyThreads) {
  ServerOptions options;
  options.threads = 3;
  std::atomic<int> handled{0};
  auto server = StartServer(options, TestRouter(&handled));
  constexpr int kClients = 6;
  constexpr int kRequests = 25;
  std::vector<std::thread> clients;
  clients.reserve(kClients);
  std::atomic<int> ok{0};
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      HttpClient client(FastClient());
      for (int i = 0; i < kRequests; ++i) {
        std::string id = std::to_string(c) + "-" + std::to_string(i);
        Result<nlohmann::json> thing =
            client.SendJson("GET", LocalUrl(*server, "/v1/things/" + id));
        if (thing.ok() && (*thing)["id"] == id) ok.fetch_add(1);
      }
    });
  }
  for (std::thread& t : clients) t.join();
  EXPECT_EQ(ok.load(), kClients * kRequests);
  EXPECT_EQ(handled.load(), kClients * kRequests);
  EXPECT_EQ(server->stats().accepted_connections, static_cast<std::uint64_t>(kClients));
}

}  // namespace
}  // namespace lunal::net
