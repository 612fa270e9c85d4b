// HttpClient: blocking calls built from Beast's asynchronous operations, each run to completion on
// a private io_context, so that every step (resolve, connect, handshake, write, read) honours the
// deadline. beast::tcp_stream closes the socket when its expiry passes.
#include "lunal/net/client.h"

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <map>
#include <string>

#include "lunal/common/json.h"
#include "lunal/net/errors.h"
#include "tls.h"

namespace lunal::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::size_t kMaxIdleConnections = 8;
constexpr std::uint32_t kMaxResponseHeaderBytes = 64 << 10;
constexpr int kMaxInformationalResponses = 8;  // 1xx before the real one
constexpr std::string_view kUserAgent = "lunal-net/0.1";

struct Connection {
  std::unique_ptr<beast::tcp_stream> plain;
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> tls;
  beast::flat_buffer buffer;
  Bytes peer_certificate;  // TLS: the server's leaf, as verified in the handshake

  beast::tcp_stream& Lowest() { return tls ? beast::get_lowest_layer(*tls) : *plain; }
  ~Connection() {
    beast::error_code ignored;
    Lowest().socket().shutdown(tcp::socket::shutdown_both, ignored);
  }
};

// Starts one asynchronous operation through `initiate(handler)` and runs the io_context until
// everything it started has finished. Returns the operation's error.
template <class Initiate>
beast::error_code RunIo(asio::io_context& io, Initiate&& initiate) {
  beast::error_code result = asio::error::operation_aborted;
  initiate([&result](beast::error_code ec, auto&&...) { result = ec; });
  io.restart();
  io.run();
  return result;
}

bool IsTokenChar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool IsToken(std::string_view text) {
  return !text.empty() && text.size() <= 64 && std::all_of(text.begin(), text.end(), IsTokenChar);
}

bool IsFraming(std::string_view name) {
  return EqualsIgnoreCase(name, "Content-Length") || EqualsIgnoreCase(name, "Transfer-Encoding") ||
         EqualsIgnoreCase(name, "Connection");
}

Result<http::request<http::string_body>> BuildMessage(const HttpClientRequest& request,
                                                      const Url& url) {
  if (!IsToken(request.method)) {
    return InvalidArgument("net.bad_request", "bad method '{}'", request.method.substr(0, 64));
  }
  http::request<http::string_body> message;
  message.version(11);
  message.method_string(request.method);
  message.target(url.target);
  if (!FindHeader(request.headers, "Host")) message.set(http::field::host, url.HostHeader());
  if (!FindHeader(request.headers, "User-Agent")) message.set(http::field::user_agent, kUserAgent);
  for (const auto& [name, value] : request.headers) {
    if (!IsToken(name) || value.size() > 16384 ||
        value.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) {
      return InvalidArgument("net.bad_request", "bad header '{}'", name.substr(0, 64));
    }
    if (!IsFraming(name)) message.insert(name, value);
  }
  message.body() = request.body;
  message.prepare_payload();
  return message;
}

Status Timeout(std::string_view step, const Url& url) {
  return DeadlineExceeded("net.timeout", "{} {}:{} timed out", step, url.host, url.port);
}

// The outcome of one write + read on a connection.
struct Exchange {
  Status status;
  HttpResponse response;
  bool stale = false;     // the server closed it before any byte of a response: retry is safe
  bool reusable = false;  // keep the connection for the next request
};

}  // namespace

struct HttpClient::Impl {
  explicit Impl(ClientOptions opts) : options(std::move(opts)) {}

  Result<HttpResponse> Send(const HttpClientRequest& request);
  Result<std::unique_ptr<Connection>> Connect(const Url& url, Clock::time_point deadline);
  Result<tcp::resolver::results_type> Resolve(const Url& url, Clock::time_point deadline);
  Status Handshake(Connection& connection, const Url& url, Clock::time_point deadline);
  Exchange Transact(Connection& connection, http::request<http::string_body>& message,
                    const Url& url, Clock::time_point deadline);
  template <class Stream>
  Exchange TransactOn(Stream& stream, Connection& connection,
                      http::request<http::string_body>& message, const Url& url,
                      Clock::time_point deadline);

  const ClientOptions options;
  asio::io_context io;  // declared before everything holding sockets, so destroyed after them
  std::unique_ptr<asio::ssl::context> ssl;
  std::map<std::string, std::unique_ptr<Connection>> idle;  // by "scheme://host:port"
};

Result<tcp::resolver::results_type> HttpClient::Impl::Resolve(const Url& url,
                                                              Clock::time_point deadline) {
  boost::system::error_code ec;
  asio::ip::address literal = asio::ip::make_address(url.host, ec);
  if (!ec) {
    return tcp::resolver::results_type::create(tcp::endpoint(literal, url.port), url.host,
                                               std::to_string(url.port));
  }
  tcp::resolver resolver(io);
  asio::steady_timer timer(io, std::min(deadline, Clock::now() + options.connect_timeout));
  bool timed_out = false;
  tcp::resolver::results_type results;
  timer.async_wait([&](beast::error_code wait_ec) {
    if (!wait_ec) {
      timed_out = true;
      resolver.cancel();  // getaddrinfo itself cannot be interrupted; its result is ignored
    }
  });
  ec = RunIo(io, [&](auto handler) {
    resolver.async_resolve(
        url.host, std::to_string(url.port),
        [&, handler](beast::error_code resolve_ec, tcp::resolver::results_type found) mutable {
          timer.cancel();
          results = std::move(found);
          handler(resolve_ec);
        });
  });
  if (timed_out) return Timeout("resolving", url);
  if (ec) {
    return Unavailable("net.connect_failed", "resolving {}: {}", url.host, ec.message());
  }
  return results;
}

Result<std::unique_ptr<Connection>> HttpClient::Impl::Connect(const Url& url,
                                                              Clock::time_point deadline) {
  LUNAL_ASSIGN_OR_RETURN(tcp::resolver::results_type endpoints, Resolve(url, deadline));
  auto connection = std::make_unique<Connection>();
  connection->plain = std::make_unique<beast::tcp_stream>(io);
  connection->plain->expires_at(std::min(deadline, Clock::now() + options.connect_timeout));
  beast::error_code ec = RunIo(
      io, [&](auto handler) { connection->plain->async_connect(endpoints, std::move(handler)); });
  if (ec == beast::error::timeout) return Timeout("connecting to", url);
  if (ec) {
    return Unavailable("net.connect_failed", "connecting to {}:{}: {}", url.host, url.port,
                       ec.message());
  }
  beast::error_code ignored;
  connection->plain->socket().set_option(tcp::no_delay(true), ignored);
  if (url.is_tls()) LUNAL_RETURN_IF_ERROR(Handshake(*connection, url, deadline));
  return connection;
}

Status HttpClient::Impl::Handshake(Connection& connection, const Url& url,
                                   Clock::time_point deadline) {
  if (!ssl) {
    LUNAL_ASSIGN_OR_RETURN(internal::SslCtxPtr ctx, internal::MakeClientSslContext(options.tls));
    ssl = std::make_unique<asio::ssl::context>(ctx.release());  // takes ownership
  }
  connection.tls =
      std::make_unique<beast::ssl_stream<beast::tcp_stream>>(std::move(*connection.plain), *ssl);
  connection.plain.reset();
  SSL* native = connection.tls->native_handle();
  LUNAL_RETURN_IF_ERROR(internal::ConfigureClientSsl(native, options.tls, url.host));
  connection.Lowest().expires_at(deadline);
  beast::error_code ec = RunIo(io, [&](auto handler) {
    connection.tls->async_handshake(asio::ssl::stream_base::client, std::move(handler));
  });
  if (ec == beast::error::timeout) return Timeout("TLS handshake with", url);
  if (ec) {
    Status refused = internal::PeerVerifierStatus(native);  // verify_server's own reason
    if (!refused.ok()) return refused;
    return Unavailable("net.tls_handshake_failed", "TLS handshake with {}:{}: {}", url.host,
                       url.port, internal::HandshakeFailureDetail(native, ec.message()));
  }
  connection.peer_certificate = internal::PeerCertificateDer(native);
  return internal::CheckPeerPin(native, options.tls);
}

template <class Stream>
Exchange HttpClient::Impl::TransactOn(Stream& stream, Connection& connection,
                                      http::request<http::string_body>& message, const Url& url,
                                      Clock::time_point deadline) {
  Exchange out;
  connection.Lowest().expires_at(deadline);
  beast::error_code write_ec =
      RunIo(io, [&](auto handler) { http::async_write(stream, message, std::move(handler)); });
  if (write_ec == beast::error::timeout) {
    out.status = Timeout("sending to", url);
    return out;
  }
  // Even when the write failed, read: a server may answer early (413) and close.
  std::optional<http::response_parser<http::string_body>> parser;
  beast::error_code ec;
  for (int i = 0; i < kMaxInformationalResponses; ++i) {
    parser.emplace();
    parser->body_limit(static_cast<std::uint64_t>(options.max_response_bytes));
    parser->header_limit(kMaxResponseHeaderBytes);
    if (message.method() == http::verb::head) parser->skip(true);
    ec = RunIo(io, [&](auto handler) {
      http::async_read(stream, connection.buffer, *parser, std::move(handler));
    });
    if (ec || parser->get().result_int() / 100 != 1) break;
  }
  bool nothing_received = !parser->got_some() && connection.buffer.size() == 0;
  if (ec == http::error::body_limit) {
    out.status = ResourceExhausted("net.response_too_large", "response from {}:{} exceeds {} bytes",
                                   url.host, url.port, options.max_response_bytes);
  } else if (ec == beast::error::timeout) {
    out.status = Timeout("waiting for the response from", url);
  } else if (ec && nothing_received && ec.category() == asio::error::get_ssl_category()) {
    // TLS 1.3 sends a rejected client certificate's alert after the client's handshake is done.
    out.status = Unavailable("net.tls_handshake_failed", "TLS with {}:{}: {}", url.host, url.port,
                             ec.message());
  } else if (ec && nothing_received) {
    out.stale = true;
    beast::error_code shown = write_ec ? write_ec : ec;
    out.status = Unavailable("net.io_error", "connection to {}:{} closed before a response: {}",
                             url.host, url.port, shown.message());
  } else if (ec && ec.category() == http::make_error_code(http::error::bad_target).category() &&
             ec != http::error::partial_message) {
    out.status = Malformed("net.bad_response", "bad response from {}:{}: {}", url.host, url.port,
                           ec.message());
  } else if (ec) {
    out.status = Unavailable("net.io_error", "reading the response from {}:{}: {}", url.host,
                             url.port, ec.message());
  }
  if (!out.status.ok()) return out;
  http::response<http::string_body> response = parser->release();
  out.reusable = !write_ec && response.keep_alive() && connection.buffer.size() == 0;
  out.response.status = static_cast<int>(response.result_int());
  for (const auto& field : response) {
    out.response.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
  out.response.body = std::move(response.body());
  out.response.peer_certificate_der = connection.peer_certificate;
  return out;
}

Exchange HttpClient::Impl::Transact(Connection& connection,
                                    http::request<http::string_body>& message, const Url& url,
                                    Clock::time_point deadline) {
  if (connection.tls) return TransactOn(*connection.tls, connection, message, url, deadline);
  return TransactOn(*connection.plain, connection, message, url, deadline);
}

Result<HttpResponse> HttpClient::Impl::Send(const HttpClientRequest& request) {
  Clock::time_point deadline = Clock::now() + options.request_timeout;
  LUNAL_ASSIGN_OR_RETURN(Url url, ParseUrl(request.url));
  LUNAL_ASSIGN_OR_RETURN(http::request<http::string_body> message, BuildMessage(request, url));
  std::string key = url.scheme + "://" + url.HostHeader() + ":" + std::to_string(url.port);

  std::unique_ptr<Connection> connection;
  if (auto it = idle.find(key); it != idle.end()) {
    connection = std::move(it->second);
    idle.erase(it);
  }
  bool reused = connection != nullptr;
  if (!reused) {
    LUNAL_ASSIGN_OR_RETURN(connection, Connect(url, deadline));
  }
  Exchange exchange = Transact(*connection, message, url, deadline);
  if (exchange.stale && reused) {
    // A kept-alive connection the server had already closed: once more, on a fresh one.
    connection.reset();
    LUNAL_ASSIGN_OR_RETURN(connection, Connect(url, deadline));
    exchange = Transact(*connection, message, url, deadline);
  }
  if (!exchange.status.ok()) return exchange.status;
  if (exchange.reusable) {
    if (idle.size() >= kMaxIdleConnections) idle.erase(idle.begin());
    idle[key] = std::move(connection);
  }
  return std::move(exchange.response);
}

HttpClient::HttpClient(ClientOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}

HttpClient::~HttpClient() = default;

Result<HttpResponse> HttpClient::Send(const HttpClientRequest& request) {
  return impl_->Send(request);
}

Result<nlohmann::json> HttpClient::SendJson(HttpClientRequest request) {
  if (!FindHeader(request.headers, "Accept")) {
    request.headers.emplace_back("Accept", "application/json");
  }
  if (!request.body.empty() && !FindHeader(request.headers, "Content-Type")) {
    request.headers.emplace_back("Content-Type", "application/json");
  }
  LUNAL_ASSIGN_OR_RETURN(HttpResponse response, Send(request));
  if (response.status < 200 || response.status > 299) {
    return StatusFromErrorBody(response.status, response.body);
  }
  if (response.body.empty()) return nlohmann::json(nullptr);
  nlohmann::json parsed = nlohmann::json::parse(response.body, nullptr, false);
  if (parsed.is_discarded()) {
    return Malformed("net.bad_json_response", "the {} response from {} is not JSON",
                     response.status, request.url.substr(0, 100));
  }
  return parsed;
}

Result<nlohmann::json> HttpClient::SendJson(std::string_view method, std::string_view url,
                                            const nlohmann::json& body) {
  HttpClientRequest request;
  request.method = std::string(method);
  request.url = std::string(url);
  if (!body.is_null()) {
    request.body = DumpJson(body);
  }
  return SendJson(std::move(request));
}

}  // namespace lunal::net
