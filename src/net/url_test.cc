#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "lunal/net/client.h"

namespace lunal::net {
namespace {

struct GoodUrl {
  std::string input;
  std::string scheme;
  std::string host;
  std::uint16_t port;
  std::string target;
  std::string host_header;
};

TEST(HttpUrlTest, ParsesGoodUrls) {
  const std::vector<GoodUrl> cases = {
      {"http://127.0.0.1:1234/path?x=y", "http", "127.0.0.1", 1234, "/path?x=y", "127.0.0.1:1234"},
      {"http://example.com", "http", "example.com", 80, "/", "example.com"},
      {"https://Example.COM/a/b", "https", "example.com", 443, "/a/b", "example.com"},
      {"HTTPS://h:443/", "https", "h", 443, "/", "h"},
      {"http://h:8080?q=1", "http", "h", 8080, "/?q=1", "h:8080"},
      {"http://[::1]:8443/v1", "http", "::1", 8443, "/v1", "[::1]:8443"},
      {"https://[2001:DB8::1]/", "https", "2001:db8::1", 443, "/", "[2001:db8::1]"},
      {"http://h/a%20b/c?x=%2F&y", "http", "h", 80, "/a%20b/c?x=%2F&y", "h"},
      {"http://h:65535/", "http", "h", 65535, "/", "h:65535"},
      {"http://my-host.internal_1/", "http", "my-host.internal_1", 80, "/", "my-host.internal_1"},
  };
  for (const GoodUrl& c : cases) {
    SCOPED_TRACE(c.input);
    Result<Url> url = ParseUrl(c.input);
    ASSERT_TRUE(url.ok()) << url.error().ToString();
    EXPECT_EQ(url->scheme, c.scheme);
    EXPECT_EQ(url->host, c.host);
    EXPECT_EQ(url->port, c.port);
    EXPECT_EQ(url->target, c.target);
    EXPECT_EQ(url->HostHeader(), c.host_header);
    EXPECT_EQ(url->is_tls(), c.scheme == "https");
  }
}

TEST(HttpUrlTest, RejectsBadUrls) {
  const std::vector<std::string> cases = {
      "",
      "127.0.0.1:80/x",                                   // no scheme
      "ftp://h/",                                         // scheme
      "file:///etc/passwd",                               // scheme
      "http:/h/",                                         // malformed
      "http:///path",                                     // empty host
      "http://user:pw@h/",                                // userinfo
      "http://h@evil/",                                   // userinfo
      "http://h/#frag",                                   // fragment
      "http://h:/",                                       // empty port
      "http://h:0/",                                      // port 0
      "http://h:65536/",                                  // port range
      "http://h:123456/",                                 // port length
      "http://h:8o/",                                     // port digits
      "http://[::1/",                                     // unterminated IPv6
      "http://[zz::1]/",                                  // bad IPv6
      "http://[fe80::1%25eth0]/",                         // zone id
      "http://[::1]x/",                                   // junk after IPv6
      "http://h/a b",                                     // space
      "http://h/\r\nX-Evil: 1",                           // header injection
      "http://h/caf\xc3\xa9",                             // non-ASCII
      "http://ex ample.com/",                             // space in host
      "http://h\xc3\xa9/",                                // non-ASCII host
      std::string("http://h/") + std::string(9000, 'a'),  // too long
  };
  for (const std::string& input : cases) {
    SCOPED_TRACE(input);
    Result<Url> url = ParseUrl(input);
    ASSERT_FALSE(url.ok()) << url->scheme << " " << url->host << " " << url->target;
    EXPECT_EQ(url.error().code(), Code::kInvalidArgument);
    EXPECT_EQ(url.error().reason(), "net.bad_url");
  }
}

}  // namespace
}  // namespace lunal::net
