// Loopback ports a test owns for as long as it needs them.
#pragma once

#include <cstdint>

#include "lunal/common/unique_fd.h"

namespace lunal::testing {

// A port on 127.0.0.1 held for this object's lifetime by a bound socket that never listens
// (SO_REUSEADDR). While it is held, no other process's bind(0) or outgoing connection can be
// given the port, and a connection to it is refused (nothing listens). A program the test starts
// may still bind and listen on it itself when it sets SO_REUSEADDR too (python's HTTPServer does):
// Linux lets one listener share a port with bound sockets that do not listen.
//
// Choosing a port with bind(0) and closing the socket again is a race in a parallel test run:
// before the program binds it, another test's connection may be given it as its ephemeral port
// (the program's bind then fails with EADDRINUSE), or another server may listen on it (a port
// meant to refuse connections then accepts them).
class ReservedPort {
 public:
  ReservedPort();  // fails the calling test (EXPECT) when no port can be had
  std::uint16_t port() const { return port_; }

 private:
  UniqueFd fd_;
  std::uint16_t port_ = 0;
};

}  // namespace lunal::testing
