// A minimal HTTP/1.0 file server on the host's 127.0.0.1 (port 0), for tests that need a network
// peer outside a sandbox: "/" is an HTML page linking every file (what pip's --find-links reads),
// "/NAME" the file, anything else 404. Counts the connections it accepts and the files it serves.
// One connection at a time, each closed after its answer; stops (joins) on destruction.
#pragma once

#include <atomic>
#include <map>
#include <string>
#include <thread>

namespace lunal::testing {

class LoopbackFileServer {
 public:
  explicit LoopbackFileServer(std::map<std::string, std::string> files = {});
  ~LoopbackFileServer();
  LoopbackFileServer(const LoopbackFileServer&) = delete;
  LoopbackFileServer& operator=(const LoopbackFileServer&) = delete;

  int port() const { return port_; }
  int accepted() const { return accepted_; }
  int file_requests() const { return file_requests_; }

 private:
  void Serve();

  std::map<std::string, std::string> files_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> accepted_{0};
  std::atomic<int> file_requests_{0};
  std::thread thread_;
};

}  // namespace lunal::testing
