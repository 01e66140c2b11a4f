// Http1Parser: the reading of HTTP/1.1 requests (RFC 9112) as pure code, without sockets: fed
// bytes, it checks the request line, the header section, the framing of the body and a chunked
// body, calls a ParserCallbacks for each part it has read, and on bad input says which status
// to answer (400, 413, 414, 415, 431, 501, 505) and why. In the spirit of Envoy's
// source/common/http/http1/parser.h. The transport (pistache_transport.cpp) feeds it what its
// connections read; tests/unit/http/parser_test.cpp feeds it byte by byte.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "civic/http/message.hpp"
#include "http1_limits.hpp"

namespace civic::http {

enum class HttpVersion { kHttp10, kHttp11 };

// Why a request cannot be read, and what to answer.
struct ParseError {
  int status = 400;    // 400, 413, 414, 415, 431, 501 or 505
  std::string reason;  // "a header line is folded (obsolete line folding)": no capital, no stop
  // A 413's limit: the body limit of the request (Http1Parser::SetBodyLimit); 0 when the
  // size given cannot even be held (16 hex digits and more): the whole request's limit then.
  uint64_t limit_bytes = 0;
};

// What a callback tells the parser.
struct CallbackResult {
  bool pause = false;               // Execute returns kPaused once the current step is done
  std::optional<ParseError> error;  // the request is refused: Execute returns kError

  static CallbackResult Continue() { return {}; }
  static CallbackResult Pause() { return {true, std::nullopt}; }
  static CallbackResult Refuse(ParseError error) { return {false, std::move(error)}; }
};

// The framing of a request, as its head declares it.
struct RequestHead {
  HttpVersion version = HttpVersion::kHttp11;
  std::optional<uint64_t> content_length;  // 2^64 - 1 for one too large to hold
  bool chunked = false;                    // Transfer-Encoding: chunked (the only coding served)
};

// What the parser calls as it reads. Views are valid during the call only.
class ParserCallbacks {
 public:
  virtual ~ParserCallbacks() = default;
  // The request line has been read: method, target and version as sent. Called before the
  // version is judged (a 505), so that the caller may refuse an unknown method first (a 501:
  // the method is the caller's to judge).
  virtual CallbackResult OnRequestLine(std::string_view method, std::string_view target,
                                       std::string_view version) = 0;
  // One header field: its name lowercased, its value without the whitespace around it. Called
  // in arrival order once the whole header section has arrived, as each line is checked.
  virtual CallbackResult OnHeaderField(std::string_view name, std::string_view value) = 0;
  // The head is read and well-formed. The body limit of this request may be set here
  // (Http1Parser::SetBodyLimit); a Content-Length over it is a 413 before any body is read.
  virtual CallbackResult OnHeadersComplete(const RequestHead& head) = 0;
  // Bytes of the body (Content-Length or chunk data), in order, as they come.
  virtual CallbackResult OnBodyData(std::string_view data) = 0;
  // The body is whole (with none: right after OnHeadersComplete). A chunked body's trailer
  // section follows, and is read and skipped before the next request line.
  virtual CallbackResult OnMessageComplete() = 0;
};

enum class ParseStatus {
  kNeedMore,  // everything given was read or kept for later: give more bytes
  kPaused,    // a callback paused: call Execute again with the bytes after `consumed`
  kDone,      // a message, or the trailer section after a chunked one, has ended: the same
  kError,     // error() says why; call Reset() before anything else
};

struct ParseResult {
  size_t consumed = 0;  // bytes of the given data read
  ParseStatus status = ParseStatus::kNeedMore;
};

class Http1Parser {
 public:
  struct Limits {
    size_t max_request_line_bytes = kMaxRequestLineBytes;  // 414 over it
    size_t max_header_bytes = kMaxHeaderBytes;             // 431 over it (the section's)
    size_t max_header_fields = kMaxHeaderFields;           // 431 over it
    uint64_t max_body_bytes = 64 * 1024;       // each request's body limit until SetBodyLimit
    size_t max_chunk_line_bytes = 4096;        // a chunk-size line (400 over it)
    size_t max_trailer_line_bytes = 8 * 1024;  // a trailer line (400 over it)
  };

  explicit Http1Parser(ParserCallbacks& callbacks) : Http1Parser(callbacks, Limits{}) {}
  Http1Parser(ParserCallbacks& callbacks, Limits limits);

  // Reads `data`, which begins with the first byte the previous call did not consume; returns
  // how much it consumed and why it stopped. A line or a header section not yet whole is not
  // consumed (its limits and its bare CR or LF are checked already): give it again, followed
  // by more. Body bytes and trailer lines are consumed as they come. Returns at the end of each
  // message (kDone), so one call reads at most one.
  ParseResult Execute(std::string_view data);

  // Sets the body limit of the request in progress; call from OnHeadersComplete.
  void SetBodyLimit(uint64_t limit) { body_limit_ = limit; }
  uint64_t body_limit() const { return body_limit_; }
  // The refusal, once Execute returned kError.
  const ParseError& error() const { return error_; }
  // Whether it waits for a request line (nothing of a request read, empty lines aside).
  bool at_message_start() const { return state_ == State::kRequestLine; }
  // Whether a chunked body has ended and its trailer section is being skipped.
  bool in_trailer() const { return state_ == State::kTrailer; }
  // Forgets everything: ready for a new request.
  void Reset();

 private:
  enum class State {
    kRequestLine,
    kVersion,  // the line is read; its version is judged next
    kHead,
    kBody,  // Content-Length (or none): body_left_ to come
    kChunkSize,
    kChunkData,
    kChunkDataEnd,
    kTrailer,
    kError,
  };
  // What a step did: go on with the next step, or stop Execute with this status.
  enum class Step { kNext, kNeedMore, kDone, kError };

  Step ReadRequestLine(std::string_view input, size_t& consumed);  // http1_parser.cpp
  Step ReadHead(std::string_view input, size_t& consumed);         // request_head.cpp
  // Reads the header lines of `block` (the empty line excluded) into `head`, counting the Host
  // fields in `hosts`.
  Step ReadFields(std::string_view block, RequestHead& head, int& hosts);  // request_head.cpp
  Step ReadChunkSize(std::string_view input, size_t& consumed);            // chunked_body.cpp
  Step ReadChunkData(std::string_view input, size_t& consumed);            // chunked_body.cpp
  Step ReadChunkDataEnd(std::string_view input, size_t& consumed);         // chunked_body.cpp
  Step SkipTrailer(std::string_view input, size_t& consumed);              // chunked_body.cpp
  Step ReadBody(std::string_view input, size_t& consumed);                 // http1_parser.cpp

  // Records a refusal; returns Step::kError.
  Step Fail(int status, std::string reason, uint64_t limit_bytes = 0);
  // Applies what a callback returned; false when it refused (the error is recorded).
  bool Accept(CallbackResult result);
  // Where the first line of `input` ends (its CR), npos while no LF has come; a LF without a CR
  // before it is refused with `bare_lf` (RFC 9112 2.2: a recipient could read it either way).
  // Sets `eol`; false (the error recorded) for a bare LF.
  bool FindLineEnd(std::string_view input, const char* bare_lf, size_t& eol);

  ParserCallbacks& callbacks_;
  const Limits limits_;
  State state_ = State::kRequestLine;
  bool paused_ = false;
  ParseError error_;
  std::optional<HttpVersion> version_;  // of the request in progress (none: not one served)
  size_t scanned_ = 0;  // bytes of the head in progress seen without its end (not consumed)
  uint64_t body_limit_ = 0;
  uint64_t body_left_ = 0;      // Content-Length bytes, or bytes of the current chunk, to come
  uint64_t chunked_bytes_ = 0;  // chunk data read so far
  size_t trailer_line_ = 0;     // bytes of the trailer line in progress, its CR included
  bool trailer_cr_ = false;     // the trailer's last byte was a CR
  size_t trailer_bytes_ = 0;    // of the trailer section so far
  size_t trailer_fields_ = 0;   // lines of the trailer section so far
  std::string name_;            // a header name, lowercased (kept to reuse its memory)
};

// The path of a request target: an absolute-form target ("http://host:port/path", RFC 9112
// 3.2.2, which a server must accept) without its scheme and authority; any other as it is.
std::string OriginForm(const std::string& target);

// Whether this is the client's last request on the connection (RFC 9112 9.3, 9.6): HTTP/1.0,
// or a Connection header that lists `close`.
bool EndsConnection(HttpVersion version, const Fields& fields);

}  // namespace civic::http
