// One server connection: (TLS handshake,) then a loop of read request -> route -> write response,
// with the limits and timeouts of ServerOptions. Every step runs on the connection's executor
// (its strand, or with one I/O thread the io_context itself): never two at once.
//
//   kHandshake --> kIdle --first byte--> kReading --complete--> kHandling --> kWriting --+
//                   ^                                                                     |
//                   +-------------------------- keep-alive -------------------------------+
//   any error, timeout or Connection: close --> kClosing (linger: drain what the client still
//   sends, so that it reads our response rather than a reset) --> closed
#include <algorithm>
#include <array>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <limits>
#include <optional>
#include <string>
#include <type_traits>

#include "lunal/net/errors.h"
#include "server_internal.h"
#include "tls.h"

namespace lunal::net::internal {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// The first read of a request: large enough to take a typical request whole, header and body (an
// attestation quote posted as JSON is ~7 KB). At 4 KiB such a request took a second read through
// the reactor, which cost the attestation service ~10% of its throughput (docs/PERFORMANCE.md).
constexpr std::size_t kFirstReadChunk = 16384;
// After a response that closes the connection: how long, and how much, we keep reading.
constexpr std::chrono::seconds kLingerTimeout{2};
constexpr std::size_t kMaxLingerBytes = std::size_t{16} << 20;
constexpr std::size_t kMaxFieldBytes = 32 << 10;  // Beast stores field sizes in 16 bits
// A keep-alive connection reuses its response buffer; past this size it is released after the
// write, so one large answer (a page of logs) is not held for the connection's idle lifetime.
constexpr std::size_t kKeptResponseBytes = 64 << 10;

std::string FormatEndpoint(const tcp::endpoint& endpoint) {
  std::string address = endpoint.address().to_string();
  if (endpoint.address().is_v6()) address = "[" + address + "]";
  return address + ":" + std::to_string(endpoint.port());
}

bool IsSafeFieldText(std::string_view text) {
  return text.size() <= kMaxFieldBytes &&
         text.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

// The response as it goes on the wire (RFC 9112 §4, §6): one buffer and one write, where Beast's
// serializer walked a chain of buffer views per response. Fails (and leaves `wire` unusable) on a
// header that would split the response or a status outside 200..599 (1xx is the server's
// business). Framing is ours: the handler's Content-Length, Transfer-Encoding and Connection are
// dropped; the Connection field says "close" when the connection ends after this response.
struct WireResponse {
  std::string bytes;
  int status = 0;
};

Status FillResponse(const HttpResponse& in, bool head, bool keep_alive,
                    const std::string& server_header, WireResponse& out) {
  if (in.status < 200 || in.status > 599) {
    return Internal("internal.bad_response", "handler returned HTTP status {}", in.status);
  }
  std::string& wire = out.bytes;
  wire.clear();
  const bool no_body_allowed = in.status == 204 || in.status == 304;
  const bool with_body = !head && !no_body_allowed;
  wire.reserve(256 + (with_body ? in.body.size() : 0));
  wire.append("HTTP/1.1 ");
  wire.append(std::to_string(in.status));
  wire.push_back(' ');
  wire.append(http::obsolete_reason(static_cast<http::status>(in.status)));
  wire.append("\r\n");
  bool has_server = false;
  for (const auto& [name, value] : in.headers) {
    if (name.empty() || !IsSafeFieldText(name) || !IsSafeFieldText(value) ||
        name.find_first_of(" \t:") != std::string::npos) {
      return Internal("internal.bad_response", "handler returned an unsafe header '{}'",
                      name.substr(0, 64));
    }
    if (EqualsIgnoreCase(name, "Content-Length") || EqualsIgnoreCase(name, "Transfer-Encoding") ||
        EqualsIgnoreCase(name, "Connection")) {
      continue;
    }
    has_server = has_server || EqualsIgnoreCase(name, "Server");
    wire.append(name).append(": ").append(value).append("\r\n");
  }
  if (!has_server && !server_header.empty()) {
    wire.append("Server: ").append(server_header).append("\r\n");
  }
  if (!no_body_allowed) {
    wire.append("Content-Length: ").append(std::to_string(in.body.size())).append("\r\n");
  }
  if (!keep_alive) wire.append("Connection: close\r\n");
  wire.append("\r\n");
  if (with_body) wire.append(in.body);
  out.status = in.status;
  return Status::Ok();
}

HttpRequest ToHttpRequest(http::request<http::string_body>&& message) {
  HttpRequest request;
  request.method = std::string(message.method_string());
  request.target = std::string(message.target());
  for (const auto& field : message) {
    request.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
  request.body = std::move(message.body());
  return request;
}

template <class Stream>
class Session final : public SessionControl, public std::enable_shared_from_this<Session<Stream>> {
 public:
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;

  template <class... StreamArgs>
  Session(std::shared_ptr<ServerShared> shared, std::uint64_t id, std::string remote,
          tcp::socket socket, StreamArgs&... stream_args)
      : shared_(std::move(shared)),
        options_(shared_->options),
        id_(id),
        remote_(std::move(remote)),
        executor_(socket.get_executor()),
        stream_(std::move(socket), stream_args...) {}

  ~Session() override {
    {
      std::lock_guard<std::mutex> lock(shared_->mu);
      shared_->sessions.erase(id_);
    }
    shared_->sessions_changed.notify_all();
  }

  void Run() { asio::post(executor_, beast::bind_front_handler(&Session::Begin, Self())); }

  void OnServerStop() override {
    asio::post(executor_, [self = Self()] {
      if (self->state_ == State::kHandshake || self->state_ == State::kIdle) self->Close();
    });
  }

 private:
  enum class State { kHandshake, kIdle, kReading, kHandling, kWriting, kClosing };

  std::shared_ptr<Session> Self() { return this->shared_from_this(); }
  beast::tcp_stream& Lowest() { return beast::get_lowest_layer(stream_); }

  void Begin() {
    if constexpr (kTls) {
      Lowest().expires_after(options_.read_timeout);
      stream_.async_handshake(asio::ssl::stream_base::server,
                              beast::bind_front_handler(&Session::OnHandshake, Self()));
    } else {
      WaitForRequest();
    }
  }

  void OnHandshake(beast::error_code ec) {
    if (ec) {
      if constexpr (kTls) ReportHandshakeFailure(ec);
      return Close();
    }
    if constexpr (kTls) peer_certificate_ = PeerCertificateDer(stream_.native_handle());
    WaitForRequest();
  }

  // TlsServerOptions::on_handshake_failed, with the peer verifier's refusal when there was one.
  void ReportHandshakeFailure(const beast::error_code& ec) {
    const auto& hook = options_.tls->on_handshake_failed;
    if (!hook) return;
    unsigned long openssl_error = ec.category() == asio::error::get_ssl_category()
                                      ? static_cast<unsigned long>(ec.value())
                                      : 0;
    hook(remote_, ServerHandshakeFailure(stream_.native_handle(), openssl_error, ec.message()));
  }

  void WaitForRequest() {
    if (shared_->stopping.load()) return Close();
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(std::min<std::size_t>(
        options_.max_header_bytes, std::numeric_limits<std::uint32_t>::max())));
    parser_->body_limit(static_cast<std::uint64_t>(options_.max_body_bytes));
    if (buffer_.size() > 0) return BeginRequest();  // pipelined: the next request is here
    state_ = State::kIdle;
    Lowest().expires_after(first_request_ ? options_.read_timeout : options_.idle_timeout);
    stream_.async_read_some(buffer_.prepare(kFirstReadChunk),
                            beast::bind_front_handler(&Session::OnFirstBytes, Self()));
  }

  void OnFirstBytes(beast::error_code ec, std::size_t bytes) {
    if (ec) return Close();  // idle timeout, client gone, or Stop
    buffer_.commit(bytes);
    BeginRequest();
  }

  void BeginRequest() {
    state_ = State::kReading;
    deadline_ = std::chrono::steady_clock::now() + options_.read_timeout;
    Lowest().expires_at(deadline_);
    http::async_read_header(stream_, buffer_, *parser_,
                            beast::bind_front_handler(&Session::OnHeader, Self()));
  }

  void OnHeader(beast::error_code ec, std::size_t) {
    if (ec) return OnReadError(ec);
    if (!parser_->is_done() &&
        beast::iequals(parser_->get()[http::field::expect], "100-continue")) {
      continue_.emplace(http::status::continue_, parser_->get().version());
      Lowest().expires_after(options_.write_timeout);
      http::async_write(stream_, *continue_,
                        beast::bind_front_handler(&Session::OnContinueWritten, Self()));
      return;
    }
    ReadBody();
  }

  void OnContinueWritten(beast::error_code ec, std::size_t) {
    if (ec) return Close();
    ReadBody();
  }

  void ReadBody() {
    Lowest().expires_at(deadline_);
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&Session::OnRequest, Self()));
  }

  void OnReadError(beast::error_code ec) {
    if (ec == http::error::header_limit) {
      return SendErrorAndClose(ResourceExhausted("http.header_too_large",
                                                 "the request header exceeds {} bytes",
                                                 options_.max_header_bytes));
    }
    if (ec == http::error::body_limit) {
      return SendErrorAndClose(ResourceExhausted(
          "http.body_too_large", "the request body exceeds {} bytes", options_.max_body_bytes));
    }
    bool parse_error = ec.category() == http::make_error_code(http::error::bad_target).category() &&
                       ec != http::error::end_of_stream && ec != http::error::partial_message;
    if (parse_error) {
      return SendErrorAndClose(InvalidArgument("http.bad_request", "{}", ec.message()));
    }
    // Timeouts (beast closes the socket itself), resets, TLS errors, a client that went away.
    Close();
  }

  void OnRequest(beast::error_code ec, std::size_t) {
    if (ec) return OnReadError(ec);
    state_ = State::kHandling;
    http::request<http::string_body> message = parser_->release();
    bool head = message.method() == http::verb::head;
    bool client_keep_alive = message.keep_alive();
    HttpRequest request = ToHttpRequest(std::move(message));
    request.remote_address = remote_;
    request.is_tls = kTls;
    request.peer_certificate_der = peer_certificate_;
    HttpResponse response = shared_->router.Dispatch(request, options_.on_internal_error);
    // Decided after the handler: a Stop that arrived meanwhile closes this connection.
    std::optional<std::string_view> connection = response.Header("Connection");
    keep_alive_ = client_keep_alive && !shared_->stopping.load() &&
                  !(connection && EqualsIgnoreCase(*connection, "close"));
    Status filled = FillResponse(response, head, keep_alive_, options_.server_header, response_);
    if (!filled.ok()) {
      if (options_.on_internal_error) options_.on_internal_error(request, filled);
      FillResponse(ErrorResponse(filled), head, keep_alive_, options_.server_header, response_)
          .IgnoreError();
    }
    if (options_.on_response) options_.on_response(request.method, request.path, response_.status);
    Write();
  }

  void SendErrorAndClose(const Status& status) {
    keep_alive_ = false;
    // Cannot fail: ErrorResponse builds a valid status and safe headers.
    FillResponse(ErrorResponse(status), false, false, options_.server_header, response_)
        .IgnoreError();
    if (options_.on_response) {
      std::string method;
      std::string path;
      // The request line is in the message as soon as it was read, even when a header field
      // (Content-Length over the body limit) stopped the parse.
      if (parser_) {
        const auto& header = parser_->get();
        method = std::string(header.method_string());
        const std::string_view target = header.target();
        path = std::string(target.substr(0, target.find('?')));
      }
      options_.on_response(method, path, response_.status);
    }
    Write();
  }

  void Write() {
    if (shared_->aborting.load()) return Close();
    state_ = State::kWriting;
    // Counted before the write, so a client that has the response also sees it in stats().
    shared_->requests_served.fetch_add(1);
    Lowest().expires_after(options_.write_timeout);
    asio::async_write(stream_, asio::buffer(response_.bytes),
                      beast::bind_front_handler(&Session::OnWritten, Self()));
  }

  void OnWritten(beast::error_code ec, std::size_t) {
    if (response_.bytes.capacity() > kKeptResponseBytes) std::string().swap(response_.bytes);
    if (ec) return Close();
    if (!keep_alive_) return Linger();
    first_request_ = false;
    WaitForRequest();
  }

  void Linger() {
    state_ = State::kClosing;
    if constexpr (!kTls) {
      beast::error_code ignored;
      Lowest().socket().shutdown(tcp::socket::shutdown_send, ignored);
    }
    Lowest().expires_after(kLingerTimeout);
    Drain();
  }

  void Drain() {
    stream_.async_read_some(asio::buffer(drain_),
                            beast::bind_front_handler(&Session::OnDrained, Self()));
  }

  void OnDrained(beast::error_code ec, std::size_t bytes) {
    lingered_bytes_ += bytes;
    if (ec || lingered_bytes_ > kMaxLingerBytes) return Close();
    Drain();
  }

  void Close() {
    state_ = State::kClosing;
    beast::error_code ignored;
    Lowest().socket().shutdown(tcp::socket::shutdown_both, ignored);
    Lowest().close();
  }

  const std::shared_ptr<ServerShared> shared_;
  const ServerOptions& options_;  // owned by shared_
  const std::uint64_t id_;
  const std::string remote_;
  const asio::any_io_executor executor_;  // the connection's strand (or the one-thread io_context)
  Stream stream_;
  State state_ = State::kHandshake;
  Bytes peer_certificate_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<http::response<http::empty_body>> continue_;
  WireResponse response_;
  bool keep_alive_ = false;
  bool first_request_ = true;
  std::chrono::steady_clock::time_point deadline_;
  std::array<char, 4096> drain_{};
  std::size_t lingered_bytes_ = 0;
};

template <class Stream, class... StreamArgs>
void Register(const std::shared_ptr<ServerShared>& shared, std::string remote, tcp::socket socket,
              StreamArgs&... stream_args) {
  std::shared_ptr<Session<Stream>> session;
  {
    std::lock_guard<std::mutex> lock(shared->mu);
    if (shared->stopping.load()) return;  // `socket` closes as it goes out of scope
    std::uint64_t id = shared->next_session_id++;
    session = std::make_shared<Session<Stream>>(shared, id, std::move(remote), std::move(socket),
                                                stream_args...);
    shared->sessions.emplace(id, session);
  }
  session->Run();
}

}  // namespace

void StartSession(const std::shared_ptr<ServerShared>& shared, tcp::socket socket) {
  beast::error_code ec;
  tcp::endpoint remote = socket.remote_endpoint(ec);
  std::string remote_text = ec ? std::string("unknown") : FormatEndpoint(remote);
  socket.set_option(tcp::no_delay(true), ec);  // best effort
  if (shared->ssl) {
    Register<beast::ssl_stream<beast::tcp_stream>>(shared, std::move(remote_text),
                                                   std::move(socket), *shared->ssl);
  } else {
    Register<beast::tcp_stream>(shared, std::move(remote_text), std::move(socket));
  }
}

}  // namespace lunal::net::internal
