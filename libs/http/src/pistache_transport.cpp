// The Pistache transport: everything that touches Pistache (0.0.5) is here. Its HTTP handler
// (a copy of Pistache's onInput with our changes), its parser steps wrapped to read heads and
// chunked bodies our way (reached through a member-pointer trick), the step id that keeps its
// timer from timing out connections still owed answers, the mapping of its error texts to
// problem answers, its response writer for answers we cannot write ourselves, and its endpoint.
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pistache/endpoint.h>
#include <pistache/http.h>
#include <pistache/net.h>
#include <pistache/peer.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <cctype>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <functional>
#include <limits>
#include <optional>
#include <stdexcept>

#include "civic/http/problem.hpp"
#include "http1_limits.hpp"
#include "server_impl.hpp"

namespace civic::http {

namespace P = Pistache;

namespace {

namespace PP = P::Http::Private;

Method FromPistache(P::Http::Method method) {
  switch (method) {
    case P::Http::Method::Get:
      return Method::kGet;
    case P::Http::Method::Head:
      return Method::kHead;
    case P::Http::Method::Post:
      return Method::kPost;
    case P::Http::Method::Put:
      return Method::kPut;
    case P::Http::Method::Patch:
      return Method::kPatch;
    case P::Http::Method::Delete:
      return Method::kDelete;
    case P::Http::Method::Options:
      return Method::kOptions;
    default:
      return Method::kOther;
  }
}

// The path of a request target: an absolute-form target ("http://host:port/path", RFC 9112
// 3.2.2, which a server must accept) without its scheme and authority; any other as it is.
std::string OriginForm(const std::string& target) {
  const size_t scheme_end = target.find("://");
  if (scheme_end == std::string::npos || target.empty() || target.front() == '/') {
    return target;
  }
  const std::string_view scheme(target.data(), scheme_end);
  if (!EqualsIgnoreCase(scheme, "http") && !EqualsIgnoreCase(scheme, "https")) {
    return target;
  }
  const size_t path = target.find('/', scheme_end + 3);
  return path == std::string::npos ? "/" : target.substr(path);
}

Request ToRequest(const P::Http::Request& in, Fields fields) {
  Request out;
  out.method = FromPistache(in.method());
  out.path = OriginForm(in.resource());
  const auto& query = in.query();
  for (auto it = query.parameters_begin(); it != query.parameters_end(); ++it) {
    // Pistache splits the query on '&' and '=' but does not decode it.
    out.query.emplace_back(PercentDecode(it->first, true), PercentDecode(it->second, true));
  }
  out.headers = std::move(fields);
  out.body = in.body();
  return out;
}

// A response header with a name known only at run time. Pistache writes typed headers only
// (raw ones are dropped on output), so every header we send goes through this class.
class DynamicHeader : public P::Http::Header::Header {
 public:
  static constexpr uint64_t kHash = P::Http::Header::detail::hash("x-civic-dynamic-header");
  DynamicHeader(std::string name, std::string value)
      : name_(std::move(name)), value_(std::move(value)) {}
  const char* name() const override { return name_.c_str(); }
  void write(std::ostream& stream) const override { stream << value_; }
  // Never equal to a typed Pistache header's hash, so header_cast<> never mistakes it for one.
  uint64_t hash() const override { return kHash; }

 private:
  std::string name_;
  std::string value_;
};

void SetHeader(P::Http::Header::Collection& headers, std::string name, std::string value) {
  headers.remove(name);
  headers.add(std::make_shared<DynamicHeader>(std::move(name), std::move(value)));
}

// Answers through Pistache's own writer (FallbackWriter).
class PistacheWriter : public FallbackWriter {
 public:
  explicit PistacheWriter(P::Http::ResponseWriter writer) : writer_(std::move(writer)) {}

  void Send(Response response, bool close, bool head_only) override {
    auto& headers = writer_.headers();
    for (auto& [name, value] : response.headers) {
      SetHeader(headers, std::move(name), std::move(value));
    }
    if (!response.content_type.empty()) {
      writer_.setMime(P::Http::Mime::MediaType::fromString(response.content_type));
    }
    // Pistache answers "Connection: Close" to an HTTP/1.1 request without a Connection header
    // (and keeps the socket open anyway); HTTP/1.1 means keep-alive unless the client says close.
    headers.remove<P::Http::Header::Connection>();
    headers.add<P::Http::Header::Connection>(close ? P::Http::ConnectionControl::Close
                                                   : P::Http::ConnectionControl::KeepAlive);
    const int status = response.status;
    const auto code = static_cast<P::Http::Code>(status);
    try {
      if (head_only || status == 204 || status == 304) {
        writer_.send(code);
      } else {
        writer_.send(code, response.body);
      }
    } catch (const std::exception& e) {
      spdlog::debug("http: could not send a response: {}", e.what());
    }
  }

 private:
  P::Http::ResponseWriter writer_;
};

// The peer's data key of its Connection.
constexpr const char* kConnectionKey = "civic.conn";

// The connection of `peer`, created on first use; null when the client is gone, on TLS (which
// only Pistache can write) or when no descriptor is left: the caller then answers through
// Pistache. Call on the peer's reactor thread only.
std::shared_ptr<Connection> ConnectionOf(const std::shared_ptr<P::Tcp::Peer>& peer,
                                         const std::shared_ptr<OutputPoller>& poller) {
  if (peer == nullptr || peer->ssl() != nullptr || poller == nullptr) {
    return nullptr;
  }
  if (auto data = peer->tryGetData(kConnectionKey)) {
    return std::static_pointer_cast<Connection>(data);
  }
  const int fd = ::fcntl(peer->fd(), F_DUPFD_CLOEXEC, 0);
  if (fd < 0) {
    return nullptr;
  }
  // Answers to pipelined requests are written one after another: with Nagle's algorithm each
  // after the first waited for the client's delayed ACK (~40 ms).
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  auto connection = std::make_shared<Connection>(fd, std::weak_ptr<const void>(peer), poller);
  peer->putData(kConnectionKey, connection);
  return connection;
}

// Pistache's parser (0.0.5) keeps its steps protected and its cursor private. The steps are
// reachable through a pointer to a protected member, formed in a derived class and applied to
// the base; WatchedStep wraps each one to see the cursor (where the request ends in the bytes
// read) and the header block as read.
struct ParserSteps : PP::ParserBase {
  static auto& Of(PP::ParserBase& parser) { return parser.*(&ParserSteps::allSteps); }
};
// The same for a message's body, which our chunked-body step fills.
struct MessageBody : P::Http::Message {
  static std::string& Of(P::Http::Message& message) { return message.*(&MessageBody::body_); }
};

// RFC 9110 5.6.2: the characters of a token (a header name, a media type's parts).
bool IsTokenChar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
    return true;
  }
  return std::strchr("!#$%&'*+-.^_`|~", c) != nullptr && c != '\0';
}

bool IsToken(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), IsTokenChar);
}

std::string_view TrimOws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

// Removes the token `s` begins with; false if it begins with none.
bool SkipToken(std::string_view& s) {
  size_t n = 0;
  while (n < s.size() && IsTokenChar(s[n])) {
    ++n;
  }
  s.remove_prefix(n);
  return n > 0;
}

// RFC 9110 8.3.1: type "/" subtype *( OWS ";" OWS [ parameter ] ), a parameter being
// token "=" ( token / quoted-string ).
bool IsMediaType(std::string_view value) {
  const size_t slash = value.find('/');
  if (slash == std::string_view::npos || !IsToken(value.substr(0, slash))) {
    return false;
  }
  std::string_view rest = value.substr(slash + 1);
  if (!SkipToken(rest)) {
    return false;
  }
  while (true) {
    rest = TrimOws(rest);
    if (rest.empty()) {
      return true;
    }
    if (rest.front() != ';') {
      return false;
    }
    rest = TrimOws(rest.substr(1));
    if (rest.empty() || rest.front() == ';') {
      continue;
    }
    const size_t eq = rest.find('=');
    if (eq == std::string_view::npos || !IsToken(rest.substr(0, eq))) {
      return false;
    }
    rest = rest.substr(eq + 1);
    if (!rest.empty() && rest.front() == '"') {
      size_t i = 1;
      while (i < rest.size() && rest[i] != '"') {
        i += rest[i] == '\\' ? 2 : 1;
      }
      if (i >= rest.size()) {
        return false;
      }
      rest = rest.substr(i + 1);
    } else if (!SkipToken(rest)) {
      return false;
    }
  }
}

// A request's header block as read: its fields (names lowercased, values without the
// surrounding whitespace, in arrival order) and what frames its body.
struct Head {
  Fields fields;
  std::optional<uint64_t> content_length;
  std::optional<std::string> transfer_encoding;
  int hosts = 0;  // Host fields
};

// A request whose head declares a body longer than its route takes (or the server, before the
// route is known): refused before the body is read.
struct DeclaredTooLarge : std::exception {
  explicit DeclaredTooLarge(size_t limit = 0) : limit_bytes(limit) {}
  const char* what() const noexcept override { return "declared body too large"; }
  size_t limit_bytes;  // 0: the server's
};

// Reads the header lines of `block` (each ending in CRLF, the empty line excluded). Throws
// the reason it cannot be read: a line without a colon or with a name that is not a token
// (whitespace before the colon included, RFC 9112 5.1), a folded line, a bare CR, LF or NUL;
// Content-Length not one decimal number, or two that differ (RFC 9112 6.3: Pistache read
// `abc` as 0, `-1` as 2^64 - 1, and of two different ones took the first), or too large to
// hold (413); a transfer coding other than exactly `chunked` (501: Pistache took any prefix of
// it, `ch` included, for chunked, so a request ended where a proxy in front may not think it
// does); a Content-Type that is not a media type (415); more than kMaxHeaderFields (431).
Head ReadHead(std::string_view block) {
  Head head;
  while (!block.empty()) {
    if (head.fields.size() == kMaxHeaderFields) {
      PP::Step::raise("it has more header fields than the limit",
                      P::Http::Code::Request_Header_Fields_Too_Large);
    }
    const size_t eol = block.find("\r\n");
    const std::string_view line = block.substr(0, eol);
    block.remove_prefix(eol + 2);
    if (line.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos) {
      PP::Step::raise("a header line holds a bare CR, LF or NUL");
    }
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos || !IsToken(line.substr(0, colon))) {
      PP::Step::raise(line.empty() || line.front() == ' ' || line.front() == '\t'
                          ? "a header line is folded (obsolete line folding)"
                          : "a header line is not a name, a colon and a value");
    }
    std::string name(line.substr(0, colon));
    std::transform(name.begin(), name.end(), name.begin(), AsciiLower);
    const std::string_view value = TrimOws(line.substr(colon + 1));
    if (name == "content-length") {
      if (value.empty() ||
          !std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        PP::Step::raise("its Content-Length header is not one decimal number");
      }
      // 10^18 bytes and more: larger than any route takes, so held as the largest number.
      const size_t first = value.find_first_not_of('0');
      const uint64_t length = first != std::string_view::npos && value.size() - first > 18
                                  ? std::numeric_limits<uint64_t>::max()
                                  : std::stoull(std::string(value));
      if (head.content_length.has_value() && *head.content_length != length) {
        PP::Step::raise("its Content-Length header is not one decimal number");
      }
      head.content_length = length;
    } else if (name == "transfer-encoding") {
      // Only `chunked` alone is served; a list (`gzip, chunked`) or a second field is another
      // coding, refused below.
      head.transfer_encoding = head.transfer_encoding
                                   ? *head.transfer_encoding + ", " + std::string(value)
                                   : std::string(value);
    } else if (name == "host") {
      ++head.hosts;
    } else if (name == "content-type" && !IsMediaType(value)) {
      PP::Step::raise("its Content-Type header is not a media type",
                      P::Http::Code::Unsupported_Media_Type);
    }
    head.fields.emplace_back(std::move(name), std::string(value));
  }
  if (head.transfer_encoding && !EqualsIgnoreCase(*head.transfer_encoding, "chunked")) {
    PP::Step::raise("only the chunked transfer coding is supported",
                    P::Http::Code::Not_Implemented);
  }
  return head;
}

// What one connection's parser has read of the request in progress.
struct ParseWatch {
  static constexpr const char* kKey = "civic.parse";
  // A step id Pistache's timer knows nothing of, so applies no timeout to: what the parser's
  // step says while the connection still owes answers. Without it Pistache, which counts from
  // the last request read, cut streams (live results, exports) and slow answers off with a
  // 408 once the header timeout had passed.
  static constexpr PP::StepId kAnsweringId = P::Meta::Hash::fnv1a("civic.Answering");

  P::StreamCursor* cursor = nullptr;  // the parser's, once a step has run
  size_t head_scanned = 0;            // bytes of the header block in progress seen without its end
  Head head;                          // the last header block read, for the request it heads
  bool in_trailer = false;            // a chunked body ended: its trailer section is next
  // Where the chunked body being read is: at a chunk-size line, in a chunk's data (`left`
  // bytes to come), or at the CRLF after it; `bytes` of data read so far. Reset per request.
  struct Chunked {
    enum class Part { kSize, kData, kDataEnd };
    Part part = Part::kSize;
    uint64_t left = 0;
    uint64_t bytes = 0;
  };
  Chunked chunked;
  std::string trailer_line;  // the part of a trailer line read so far
  std::weak_ptr<Connection> connection;
  std::weak_ptr<P::Tcp::Peer> peer;          // the connection's (which owns this watch)
  P::Http::RequestParser* parser = nullptr;  // the connection's (the peer owns both)
  bool read_done = false;  // no more input is read: after the last request, or a refusal
  bool idle_next = false;  // answers are all written: the timer marks the peer idle next round
  std::chrono::milliseconds send_timeout{0};
  std::chrono::milliseconds header_timeout{0};
  std::chrono::milliseconds body_timeout{0};
  // Answers a request that did not arrive in time (408 problem) and ends the connection; set
  // by the handler. Called on the reactor thread.
  std::function<void()> on_stall;
  // The body limit of the route a request's line names (Router::Find; set by the handler),
  // asked only when a head declares more than `smallest_body_limit` or a chunked body.
  std::function<size_t(P::Http::Method, const std::string&)> route_body_limit;
  size_t smallest_body_limit = 0;
  size_t body_limit = 0;  // the request in progress's, once its head is read
};

class WatchedStep : public PP::Step {
 public:
  WatchedStep(P::Http::Message* for_message, std::unique_ptr<PP::Step> inner,
              std::shared_ptr<ParseWatch> watch, size_t max_request_bytes)
      : PP::Step(for_message),
        inner_(std::move(inner)),
        watch_(std::move(watch)),
        max_request_bytes_(max_request_bytes) {}

  // Called by Pistache's timer only (TransportImpl::checkIdlePeers, on the reactor thread), to
  // choose the timeout that applies: none while the connection owes answers; the keep-alive
  // timeout once they are written, counted from then (Pistache counts from when the request
  // was read, which would close a connection at once after an answer that took longer); and
  // a client that takes none of its answer's bytes for send_timeout is disconnected.
  PP::StepId id() const override;
  // The wrapped step's own id, whatever the connection owes.
  PP::StepId inner_id() const { return inner_->id(); }

  PP::State apply(P::StreamCursor& cursor) override {
    watch_->cursor = &cursor;
    const PP::StepId id = inner_->id();
    if (id == PP::HeadersStep::Id) {
      return ApplyHead(cursor);
    }
    if (id == PP::RequestLineStep::Id) {
      CheckRequestLine(cursor);
    } else if (id == PP::BodyStep::Id && IsChunkedOnly()) {
      return ApplyChunkedBody(cursor);
    }
    return inner_->apply(cursor);
  }

 private:
  // In place of Pistache's header step, which for each line made a typed header (and its
  // parse) where the registry knew the name, kept a raw copy too, and hashed and compared
  // through lowercased copies of the name (7 % of the network threads' time under single
  // votes, and the typed headers were printed back to text for handlers after it). The
  // fields are kept as read, in the watch; only the two that frame the body go to Pistache's
  // request, for its body step. Waits, reading nothing, until the block has ended.
  PP::State ApplyHead(P::StreamCursor& cursor) {
    const std::string_view input(cursor.offset(), cursor.remaining());
    size_t end = 0;  // of the block, past its empty line
    if (input.size() >= 2 && input[0] == '\r' && input[1] == '\n') {
      end = 2;
    } else {
      const size_t from = watch_->head_scanned > 3 ? watch_->head_scanned - 3 : 0;
      const size_t at = input.find("\r\n\r\n", from);
      if (std::min(at, input.size()) > kMaxHeaderBytes) {
        PP::Step::raise("its header section is longer than the limit",
                        P::Http::Code::Request_Header_Fields_Too_Large);
      }
      if (at == std::string_view::npos) {
        // A bare LF, or a CR before anything but LF, can never be part of a header block that
        // ends: refused now, not after the header timeout.
        for (size_t i = from; i < input.size(); ++i) {
          if ((input[i] == '\n' && (i == 0 || input[i - 1] != '\r')) ||
              (input[i] == '\r' && i + 1 < input.size() && input[i + 1] != '\n')) {
            PP::Step::raise("a header line holds a bare CR, LF or NUL");
          }
        }
        watch_->head_scanned = input.size();
        return PP::State::Again;
      }
      end = at + 4;
    }
    watch_->head_scanned = 0;
    watch_->chunked = {};
    watch_->head = ReadHead(input.substr(0, end - 2));
    const Head& head = watch_->head;
    if (message->version() == P::Http::Version::Http11 && head.hosts != 1) {
      PP::Step::raise(head.hosts == 0 ? "an HTTP/1.1 request needs a Host header"
                                      : "it has more than one Host header");
    }
    if (message->version() == P::Http::Version::Http10 && head.transfer_encoding) {
      // RFC 9112 6.1: faulty framing, whatever the coding.
      PP::Step::raise("an HTTP/1.0 request has no transfer coding");
    }
    watch_->body_limit = max_request_bytes_;
    if (watch_->route_body_limit &&
        (head.transfer_encoding || head.content_length.value_or(0) > watch_->smallest_body_limit)) {
      // The message is the parser's request (WatchOf wraps the steps of parser.request).
      const auto& request = static_cast<const P::Http::Request&>(*message);
      watch_->body_limit = watch_->route_body_limit(request.method(), request.resource());
    }
    if (head.content_length.value_or(0) > watch_->body_limit) {
      throw DeclaredTooLarge(watch_->body_limit);
    }
    auto& headers = message->headers();
    if (head.content_length.has_value()) {
      headers.add(std::make_shared<P::Http::Header::ContentLength>(*head.content_length));
    }
    if (head.transfer_encoding.has_value()) {
      auto encoding = std::make_shared<P::Http::Header::TransferEncoding>();
      encoding->parseRaw(head.transfer_encoding->data(), head.transfer_encoding->size());
      headers.add(encoding);
    }
    cursor.advance(end);
    return PP::State::Next;
  }

  // Pistache's request-line step waits for more bytes, until the header timeout, when a line
  // has ended without a version ("GET /x"), and reads a bare LF into the version (a 505). A
  // request line that has ended is checked here first: method, target and version, each
  // after one space, ended by CRLF (RFC 9112 3); Pistache's step then reads it.
  void CheckRequestLine(P::StreamCursor& cursor) const {
    const std::string_view input(cursor.offset(), cursor.remaining());
    const size_t eol = LineEnd(input, "the request line ends in a bare LF");
    if (std::min(eol, input.size()) > kMaxRequestLineBytes) {
      PP::Step::raise("its request line is longer than the limit",
                      P::Http::Code::RequestURI_Too_Long);
    }
    if (eol == std::string_view::npos) {
      return;
    }
    const std::string_view line = input.substr(0, eol);
    const size_t first = line.find(' ');
    const size_t second = first == std::string_view::npos ? first : line.find(' ', first + 1);
    if (first == 0 || second == std::string_view::npos || second == first + 1 ||
        line.find(' ', second + 1) != std::string_view::npos ||
        line.find_first_of(std::string_view("\r\0\t", 3)) != std::string_view::npos) {
      PP::Step::raise("the request line is not a method, a target and a version");
    }
  }

  // Whether the body is framed by the chunked coding alone (a Content-Length beside it, or
  // another coding, is Pistache's step's to refuse).
  bool IsChunkedOnly() const {
    const auto& headers = message->headers();
    const auto encoding = headers.tryGet<P::Http::Header::TransferEncoding>();
    return encoding != nullptr && encoding->encoding() == P::Http::Header::Encoding::Chunked &&
           headers.tryGet<P::Http::Header::ContentLength>() == nullptr;
  }

  // In place of Pistache's chunk step, which reserved memory for each chunk's declared size
  // before any limit (a 1 GB chunk-size line took 1.6 GB of address space, never given back),
  // answered a size it could not hold with the exception's text (std::bad_alloc), and refused
  // chunk extensions, which RFC 9112 7.1.1 says to ignore. Here a chunk that would take the
  // body past the server's request limit is a 413 before anything is kept; extensions are
  // ignored; the body's data goes to the message as it arrives. Ends, like Pistache's, after
  // the last chunk's size line: the trailer section is skipped by onInput (SkipTrailer).
  PP::State ApplyChunkedBody(P::StreamCursor& cursor) {
    using Part = ParseWatch::Chunked::Part;
    ParseWatch::Chunked& w = watch_->chunked;
    std::string& body = MessageBody::Of(*message);
    for (;;) {
      const std::string_view input(cursor.offset(), cursor.remaining());
      switch (w.part) {
        case Part::kSize: {
          const size_t eol = LineEnd(input, "a chunk-size line ends in a bare LF");
          if (std::min(eol, input.size()) > kMaxChunkLine) {
            PP::Step::raise("a chunk-size line is too long");
          }
          if (eol == std::string_view::npos) {
            return PP::State::Again;
          }
          // ChunkSize stays under 2^60 and `bytes` under the limit: the sum cannot overflow.
          const uint64_t size = ChunkSize(input.substr(0, eol));
          if (w.bytes + size > watch_->body_limit) {
            throw DeclaredTooLarge(watch_->body_limit);
          }
          cursor.advance(eol + 2);
          if (size == 0) {
            return PP::State::Done;
          }
          w.left = size;
          w.bytes += size;
          w.part = Part::kData;
          break;
        }
        case Part::kData: {
          if (input.empty()) {
            return PP::State::Again;
          }
          const size_t n = static_cast<size_t>(std::min<uint64_t>(input.size(), w.left));
          body.append(input.data(), n);
          cursor.advance(n);
          w.left -= n;
          if (w.left == 0) {
            w.part = Part::kDataEnd;
          }
          break;
        }
        case Part::kDataEnd: {
          if (input.size() < 2) {
            if (!input.empty() && input[0] != '\r') {
              PP::Step::raise("a chunk's data is not followed by CRLF");
            }
            return PP::State::Again;
          }
          if (input[0] != '\r' || input[1] != '\n') {
            PP::Step::raise("a chunk's data is not followed by CRLF");
          }
          cursor.advance(2);
          w.part = Part::kSize;
          break;
        }
      }
    }
  }

  // A chunk-size line without its CRLF: 1*HEXDIG, then nothing or chunk extensions
  // (*( BWS ";" ... ), read as visible characters, spaces and tabs, and ignored).
  static uint64_t ChunkSize(std::string_view line) {
    size_t i = 0;
    uint64_t size = 0;
    size_t significant = 0;
    for (; i < line.size() && std::isxdigit(static_cast<unsigned char>(line[i])) != 0; ++i) {
      const char c = line[i];
      const uint64_t digit =
          c <= '9' ? static_cast<uint64_t>(c - '0') : static_cast<uint64_t>((c | 0x20) - 'a' + 10);
      if (significant > 0 || digit != 0) {
        if (++significant > 15) {
          throw DeclaredTooLarge();  // 16 significant hex digits are at least 2^60 bytes
        }
      }
      size = size * 16 + digit;
    }
    if (i == 0) {
      PP::Step::raise("a chunk size is not a hexadecimal number");
    }
    size_t ext = i;
    while (ext < line.size() && (line[ext] == ' ' || line[ext] == '\t')) {
      ++ext;
    }
    if (i == line.size()) {
      return size;
    }
    if (ext == line.size() || line[ext] != ';') {
      PP::Step::raise("a chunk size is not a hexadecimal number");
    }
    for (; ext < line.size(); ++ext) {
      const auto c = static_cast<unsigned char>(line[ext]);
      if ((c < 0x20 && c != '\t') || c == 0x7f) {
        PP::Step::raise("a chunk extension holds a control character");
      }
    }
    return size;
  }

  // Where the first line of `input` ends (its CR), npos while no LF has come; a LF without a CR
  // before it is refused with `bare_lf` (RFC 9112 2.2: a recipient could read it either way).
  static size_t LineEnd(std::string_view input, const char* bare_lf) {
    const size_t lf = input.find('\n');
    if (lf == std::string_view::npos) {
      return lf;
    }
    if (lf == 0 || input[lf - 1] != '\r') {
      PP::Step::raise(bare_lf);
    }
    return lf - 1;
  }

  static constexpr size_t kMaxChunkLine = 4096;

  std::unique_ptr<PP::Step> inner_;
  std::shared_ptr<ParseWatch> watch_;
  size_t max_request_bytes_;
};

// Which of Pistache's steps the parser is at (its steps are wrapped: see WatchOf).
PP::StepId StepOf(P::Http::RequestParser& parser) {
  return static_cast<const WatchedStep*>(parser.step())->inner_id();
}

// Whether the parser holds nothing of a next request.
bool AtRequestStart(P::Http::RequestParser& parser, const ParseWatch& watch) {
  return StepOf(parser) == PP::RequestLineStep::Id &&
         (watch.cursor == nullptr || watch.cursor->remaining() == 0);
}

PP::StepId WatchedStep::id() const {
  const auto connection = watch_->connection.lock();
  // A request that began and did not arrive whole in time gets our 408 (a problem) before
  // Pistache's timer, which reads its clock just before this call, would send its bare one
  // (by this later clock the request is at least as late). Not while answers are owed.
  const bool in_progress = watch_->in_trailer || !AtRequestStart(*watch_->parser, *watch_);
  if (!watch_->read_done && in_progress && watch_->on_stall &&
      (connection == nullptr || !connection->busy())) {
    const auto limit =
        inner_->id() == PP::BodyStep::Id ? watch_->body_timeout : watch_->header_timeout;
    if (std::chrono::steady_clock::now() - watch_->parser->time() > limit) {
      watch_->on_stall();
      return ParseWatch::kAnsweringId;
    }
  }
  if (connection == nullptr) {
    return inner_->id();
  }
  if (connection->Stalled(std::chrono::steady_clock::now(), watch_->send_timeout)) {
    spdlog::debug("http: a client took nothing for {} ms: disconnected",
                  watch_->send_timeout.count());
    connection->Fail();
    return ParseWatch::kAnsweringId;
  }
  if (connection->busy()) {
    return ParseWatch::kAnsweringId;
  }
  // Pistache measured this round from the old clock and reads the idle flag after this call:
  // the clock restarts now, the flag is set next round.
  if (connection->TakeSettled() && AtRequestStart(*watch_->parser, *watch_)) {
    watch_->parser->reset();  // empty: this only restarts its clock
    watch_->idle_next = true;
    return ParseWatch::kAnsweringId;
  }
  if (watch_->idle_next) {
    watch_->idle_next = false;
    if (auto peer = watch_->peer.lock();
        peer != nullptr && AtRequestStart(*watch_->parser, *watch_)) {
      peer->setIdle(true);
      return ParseWatch::kAnsweringId;
    }
  }
  return inner_->id();
}

// Whether this is the client's last request on the connection (RFC 9112 9.3, 9.6).
bool EndsConnection(const P::Http::Request& request, const Head& head) {
  if (request.version() == P::Http::Version::Http10) {
    return true;
  }
  for (const auto& [name, value] : head.fields) {
    if (name != "connection") {
      continue;
    }
    std::string_view options = value;  // a list of connection options, any case
    while (!options.empty()) {
      const size_t comma = options.find(',');
      const std::string_view option = TrimOws(options.substr(0, comma));
      if (EqualsIgnoreCase(option, "close")) {
        return true;
      }
      options.remove_prefix(comma == std::string_view::npos ? options.size() : comma + 1);
    }
  }
  return false;
}

bool IsChunked(const P::Http::Request& request) {
  const auto encoding = request.headers().tryGet<P::Http::Header::TransferEncoding>();
  return encoding != nullptr && encoding->encoding() == P::Http::Header::Encoding::Chunked;
}

// Pistache ends a chunked body at the last chunk's size line, `0`, leaving the trailer section
// (fields, then an empty line) to be read as if it began the next request. Skips it from
// `input`; false while it has not ended.
constexpr size_t kMaxTrailerLine = 8 * 1024;
bool SkipTrailer(ParseWatch& watch, std::string_view& input) {
  while (watch.in_trailer) {
    const size_t eol = input.find('\n');
    if (eol == std::string_view::npos) {
      watch.trailer_line.append(input);
      input = {};
      return false;
    }
    watch.trailer_line.append(input.substr(0, eol));
    input.remove_prefix(eol + 1);
    if (watch.trailer_line.empty() || watch.trailer_line == "\r") {
      watch.in_trailer = false;
    }
    watch.trailer_line.clear();
  }
  return true;
}

// The connection's watch, its parser's steps wrapped on first use. Call on the reactor thread.
std::shared_ptr<ParseWatch> WatchOf(const std::shared_ptr<P::Tcp::Peer>& peer,
                                    P::Http::RequestParser& parser, size_t max_request_bytes,
                                    std::chrono::milliseconds send_timeout) {
  if (auto data = peer->tryGetData(ParseWatch::kKey)) {
    return std::static_pointer_cast<ParseWatch>(data);
  }
  auto watch = std::make_shared<ParseWatch>();
  watch->parser = &parser;
  watch->peer = peer;
  watch->send_timeout = send_timeout;
  for (auto& step : ParserSteps::Of(parser)) {
    step =
        std::make_unique<WatchedStep>(&parser.request, std::move(step), watch, max_request_bytes);
  }
  peer->putData(ParseWatch::kKey, watch);
  return watch;
}

class Handler : public P::Http::Handler {
 public:
  HTTP_PROTOTYPE(Handler)

  explicit Handler(Server::Impl* impl) : impl_(impl) {}

  // Pistache's own Http::Handler::onInput (0.0.5), step for step, except in these things.
  // - Bytes read after a complete request (the next requests of a client that pipelines) are
  //   parsed as the requests they are; Pistache drops them with its buffer, and that client
  //   waits forever for their answers. Up to kMaxOwed requests may wait for answers at once.
  // - After a request that ends the connection (Connection: close, HTTP/1.0) nothing more is
  //   read: requests sent after it must not be acted on (RFC 9112 9.6).
  // - A chunked body's trailer section, and empty lines before a request line, are skipped;
  //   Pistache read them as the start of the next request.
  // - When the parser refuses the bytes Pistache answers in plain text (a header it cannot
  //   parse even as a 500 with the exception's text) and goes on reading the connection as if
  //   the next bytes began a request. Here the refusal is a problem+json answer that says
  //   Connection: close, the connection ends after it, and nothing more it sends is read (what
  //   follows a request whose framing is unknown could be anything, a request hidden in a body
  //   included).
  void onInput(const char* buffer, size_t len, const std::shared_ptr<P::Tcp::Peer>& peer) override {
    // Counted before the check (both seq_cst): either Stop() sees this call and waits for it,
    // or this call sees Stop() and reads nothing.
    impl_->reactor_calls.fetch_add(1);
    struct Leave {
      std::atomic<int>& calls;
      ~Leave() { calls.fetch_sub(1); }
    } leave{impl_->reactor_calls};
    if (impl_->reactors_stopping.load()) {
      return;
    }
    auto parser = getParser(peer);
    auto& request = parser->request;
    const auto watch = WatchOf(peer, *parser, getMaxRequestSize(), impl_->options.send_timeout);
    if (watch->read_done) {
      return;
    }
    if (!watch->on_stall) {
      watch->header_timeout = impl_->options.header_timeout;
      watch->body_timeout = impl_->options.body_timeout;
      // The peer owns the watch, the watch this function: neither is held strongly here.
      watch->on_stall = [this, weak = std::weak_ptr<P::Tcp::Peer>(peer), raw = watch.get()] {
        if (auto stalled = weak.lock()) {
          Refuse(stalled, *getParser(stalled), *raw,
                 ProblemResponse(408, "The request was not received in time."));
        }
      };
      watch->smallest_body_limit = impl_->smallest_body_limit;
      watch->route_body_limit = [impl = impl_](P::Http::Method method, const std::string& target) {
        const Router::Match match = impl->router.Find(FromPistache(method), OriginForm(target));
        return match.route != nullptr && match.route->options.max_body_bytes != 0
                   ? match.route->options.max_body_bytes
                   : impl->options.max_body_bytes;
      };
    }
    std::string rest;  // what came after the request just parsed, in the same read
    std::string_view input(buffer, len);
    while (true) {
      if (watch->in_trailer && !SkipTrailer(*watch, input)) {
        if (watch->trailer_line.size() > kMaxTrailerLine) {
          Refuse(peer, *parser, *watch,
                 ProblemResponse(400,
                                 "The request could not be read: a line of its chunked "
                                 "body's trailer section is too long."));
        }
        return;
      }
      if (AtRequestStart(*parser, *watch)) {
        // RFC 9112 2.2: empty lines before a request line are ignored.
        size_t skip = 0;
        while (skip < input.size() && (input[skip] == '\r' || input[skip] == '\n')) {
          ++skip;
        }
        input.remove_prefix(skip);
        if (input.empty()) {
          return;
        }
        // A new request's header timeout counts from its first byte, not from the last
        // request read on the connection (the parser is empty: this only restarts its clock).
        if (std::chrono::steady_clock::now() - parser->time() > std::chrono::milliseconds(100)) {
          parser->reset();
        }
      }
      try {
        if (!parser->feed(input.data(), input.size())) {
          Refuse(peer, *parser, *watch, TooLarge(0));
          return;
        }
        if (parser->parse() != PP::State::Done) {
          // A request has begun: its header and body timeouts apply (while the connection is
          // idle, Pistache would apply only the keep-alive timeout, and close without a word).
          peer->setIdle(false);
          watch->idle_next = false;
          return;
        }
        if (auto connection = watch->connection.lock();
            connection != nullptr && connection->owed() >= kMaxOwed) {
          Refuse(peer, *parser, *watch,
                 ProblemResponse(503, "Too many requests on this connection wait for answers (" +
                                          std::to_string(kMaxOwed) +
                                          "); wait for answers before sending more.")
                     .WithHeader("Retry-After", "1"));
          return;
        }
        std::string next;
        if (watch->cursor != nullptr && watch->cursor->remaining() > 0) {
          next.assign(watch->cursor->offset(), watch->cursor->remaining());
        }
        const bool chunked = IsChunked(request);
        const bool last = EndsConnection(request, watch->head);
        P::Http::ResponseWriter writer(request.version(), transport(), this, peer);
        request.copyAddress(peer->address());
        peer->setIdle(false);
        watch->idle_next = false;
        Serve(request, std::move(writer), std::move(watch->head), last);
        watch->head = Head{};
        parser->reset();
        watch->head_scanned = 0;
        watch->in_trailer = chunked;
        if (watch->connection.expired()) {
          if (auto data = peer->tryGetData(kConnectionKey)) {
            watch->connection = std::static_pointer_cast<Connection>(data);
          }
        }
        if (last) {
          watch->read_done = true;
          return;
        }
        rest = std::move(next);
        input = rest;
      } catch (const P::Http::HttpError& e) {
        Refuse(peer, *parser, *watch, RefusalFor(e));
        return;
      } catch (const DeclaredTooLarge& e) {
        Refuse(peer, *parser, *watch, TooLarge(e.limit_bytes));
        return;
      } catch (const std::exception& e) {
        // A header value its typed parser cannot read, a chunk size too large to hold.
        spdlog::debug("http: refused a request: {}", e.what());
        Refuse(peer, *parser, *watch,
               ProblemResponse(400,
                               "The request could not be read: a header or the body's "
                               "framing is malformed."));
        return;
      }
    }
  }

  // Pistache calls this only from its own onInput, which ours replaces: never called.
  void onRequest(const P::Http::Request& request, P::Http::ResponseWriter writer) override {
    Serve(request, std::move(writer), Head{}, EndsConnection(request, Head{}));
  }

  // Answers one request, whose header block `head` holds (our header step reads it); `last`:
  // it ends the connection (EndsConnection).
  void Serve(const P::Http::Request& request, P::Http::ResponseWriter writer, Head head,
             bool last) {
    const auto peer = writer.getPeer();
    auto exchange = std::make_unique<Responder::Exchange>(
        impl_, std::make_unique<PistacheWriter>(std::move(writer)));
    exchange->start = std::chrono::steady_clock::now();
    try {
      exchange->Attach(ConnectionOf(peer, impl_->poller));
    } catch (const std::exception& e) {
      spdlog::debug("http: answering through Pistache: {}", e.what());
    }
    impl_->in_flight.fetch_add(1, std::memory_order_acq_rel);
    impl_->in_flight_gauge->Inc();
    Request converted;
    try {
      converted = ToRequest(request, std::move(head.fields));
    } catch (const std::exception& e) {
      Responder responder(std::move(exchange));
      responder.Send(ProblemResponse(400, "The request could not be read."));
      return;
    }
    exchange->method = converted.method;
    exchange->origin = converted.Header("origin");
    exchange->close_connection = last;
    try {
      impl_->Dispatch(std::move(converted), exchange);
    } catch (const std::exception& e) {
      spdlog::error("http: {} failed before a handler answered: {}", request.resource(), e.what());
      if (exchange != nullptr) {
        Responder(std::move(exchange))
            .Send(ProblemResponse(500, "An unexpected error occurred; it has been logged."));
      }
    }
  }

 private:
  // Requests read on one connection that may wait for their answers at once.
  static constexpr uint64_t kMaxOwed = 128;

  // `limit_bytes`: the route's body limit; 0 for the server's (head and body).
  Response TooLarge(size_t limit_bytes) const {
    Problem problem;
    problem.status = 413;
    if (limit_bytes == 0) {
      problem.detail = "The request is larger than " + std::to_string(getMaxRequestSize()) +
                       " bytes, head and body.";
      problem.extra["limit_bytes"] = getMaxRequestSize();
    } else {
      problem.detail =
          "The body is larger than the limit here, " + std::to_string(limit_bytes) + " bytes.";
      problem.extra["limit_bytes"] = limit_bytes;
    }
    return ProblemResponse(problem);
  }

  // The answer to what Pistache's parser threw, from its status and fixed reason text.
  static Response RefusalFor(const P::Http::HttpError& error) {
    const std::string reason = error.reason();
    if (reason == "Unknown HTTP request method") {
      return ProblemResponse(501, "The request method is not one this server implements.");
    }
    if (reason == "Encountered invalid HTTP version") {
      return ProblemResponse(505, "Only HTTP/1.1 and HTTP/1.0 are served.");
    }
    if (error.code() == 501) {
      return ProblemResponse(501, "Only the chunked transfer coding is supported.");
    }
    if (error.code() == 431) {
      Problem problem;
      problem.status = 431;
      problem.detail = "The request could not be read: " + reason + " (" +
                       std::to_string(kMaxHeaderFields) + " fields, " +
                       std::to_string(kMaxHeaderBytes) + " bytes).";
      problem.extra["limit_bytes"] = kMaxHeaderBytes;
      problem.extra["limit_fields"] = kMaxHeaderFields;
      return ProblemResponse(problem);
    }
    if (error.code() == 414) {
      Problem problem;
      problem.status = 414;
      problem.detail = "The request could not be read: " + reason + " (" +
                       std::to_string(kMaxRequestLineBytes) + " bytes).";
      problem.extra["limit_bytes"] = kMaxRequestLineBytes;
      return ProblemResponse(problem);
    }
    if (error.code() == 415) {
      return ProblemResponse(415,
                             "The request could not be read: its Content-Type header is "
                             "not a media type.");
    }
    if (error.code() == 400) {
      return ProblemResponse(400, "The request could not be read: " + reason + ".");
    }
    return ProblemResponse(error.code() >= 400 && error.code() < 600 ? error.code() : 400,
                           "The request could not be read.");
  }

  // Answers a request the parser refused, then ends the connection and ignores its input. In
  // metrics its method is the one the request line named, if it was read.
  void Refuse(const std::shared_ptr<P::Tcp::Peer>& peer, P::Http::RequestParser& parser,
              ParseWatch& watch, Response response) {
    const Method method = StepOf(parser) == PP::RequestLineStep::Id
                              ? Method::kOther
                              : FromPistache(parser.request.method());
    parser.reset();
    watch.head_scanned = 0;
    watch.read_done = true;
    auto exchange = std::make_unique<Responder::Exchange>(
        impl_, std::make_unique<PistacheWriter>(
                   P::Http::ResponseWriter(P::Http::Version::Http11, transport(), this, peer)));
    exchange->start = std::chrono::steady_clock::now();
    exchange->method = method;
    exchange->close_connection = true;
    try {
      exchange->Attach(ConnectionOf(peer, impl_->poller));
    } catch (const std::exception& e) {
      spdlog::debug("http: answering through Pistache: {}", e.what());
    }
    impl_->in_flight.fetch_add(1, std::memory_order_acq_rel);
    impl_->in_flight_gauge->Inc();
    Responder(std::move(exchange)).Send(std::move(response));
  }

  Server::Impl* impl_;
};

// Pistache's endpoint, serving with our Handler.
class PistacheTransport : public Transport {
 public:
  PistacheTransport(Server::Impl& impl, size_t max_request_bytes) {
    const P::Address address(impl.options.host, P::Port(impl.options.port));
    endpoint_ = std::make_unique<P::Http::Endpoint>(address);
    auto opts = P::Http::Endpoint::options()
                    .threads(impl.options.threads)
                    .flags(P::Tcp::Options::ReuseAddr)
                    .maxRequestSize(max_request_bytes)
                    .headerTimeout(impl.options.header_timeout)
                    .bodyTimeout(impl.options.body_timeout)
                    .keepaliveTimeout(impl.options.keepalive_timeout)
                    .backlog(1024);
    endpoint_->init(opts);
    endpoint_->setHandler(P::Http::make_handler<Handler>(&impl));
  }

  uint16_t Serve() override {
    endpoint_->serveThreaded();
    return static_cast<uint16_t>(endpoint_->getPort());
  }

  void Shutdown() override { endpoint_->shutdown(); }

 private:
  std::unique_ptr<P::Http::Endpoint> endpoint_;
};

}  // namespace

std::unique_ptr<Transport> MakePistacheTransport(Server::Impl& impl, size_t max_request_bytes) {
  return std::make_unique<PistacheTransport>(impl, max_request_bytes);
}

}  // namespace civic::http
