#include "lunal/testing/loopback_file_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace lunal::testing {

LoopbackFileServer::LoopbackFileServer(std::map<std::string, std::string> files)
    : files_(std::move(files)) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  EXPECT_EQ(::listen(fd_, 16), 0);
  socklen_t len = sizeof addr;
  ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  thread_ = std::thread([this] { Serve(); });
}

LoopbackFileServer::~LoopbackFileServer() {
  stop_ = true;
  thread_.join();
  ::close(fd_);
}

void LoopbackFileServer::Serve() {
  while (!stop_) {
    pollfd p{.fd = fd_, .events = POLLIN, .revents = 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) continue;
    ++accepted_;
    std::string request;
    char buf[4096];
    pollfd r{.fd = c, .events = POLLIN, .revents = 0};
    while (request.find("\r\n\r\n") == std::string::npos && request.size() < 65536 &&
           ::poll(&r, 1, 2000) > 0) {
      ssize_t got = ::read(c, buf, sizeof buf);
      if (got <= 0) break;
      request.append(buf, static_cast<std::size_t>(got));
    }
    std::string body;
    std::string status = "200 OK";
    const std::size_t sp = request.find(' ', 4);
    const std::string path =
        request.starts_with("GET ") && sp != std::string::npos ? request.substr(4, sp - 4) : "";
    if (path == "/") {
      body = "<html><body>\n";
      for (const auto& [name, data] : files_) {
        body += "<a href=\"" + name + "\">" + name + "</a>\n";
      }
      body += "</body></html>\n";
    } else if (auto it = files_.find(path.substr(path.empty() ? 0 : 1)); it != files_.end()) {
      body = it->second;
      ++file_requests_;
    } else {
      status = "404 Not Found";
    }
    const std::string response =
        "HTTP/1.0 " + status +
        "\r\nContent-Type: " + (path == "/" ? "text/html" : "application/octet-stream") +
        "\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" +
        body;
    for (std::size_t off = 0; off < response.size();) {
      ssize_t w = ::write(c, response.data() + off, response.size() - off);
      if (w <= 0) break;
      off += static_cast<std::size_t>(w);
    }
    ::close(c);
  }
}

}  // namespace lunal::testing
