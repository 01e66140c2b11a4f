// Http1Parser's frame: Execute's loop over the parts of a request, the request line, and a body
// framed by Content-Length. The head is read in request_head.cpp, a chunked body in
// chunked_body.cpp.
#include "http1_parser.hpp"

#include <algorithm>

namespace civic::http {

namespace {

// Exactly HTTP/1.0 or HTTP/1.1 (RFC 9112 2.3). Pistache 0.0.5 compares the version with strncmp
// over the version's own length, so that any prefix of "HTTP/1.0" (the empty one too) would
// read as HTTP/1.0; the line is checked here before Pistache's step reads it, so such a line
// is refused (505) and the two never disagree on a request they both serve.
std::optional<HttpVersion> ParseVersion(std::string_view version) {
  if (version == "HTTP/1.0") {
    return HttpVersion::kHttp10;
  }
  if (version == "HTTP/1.1") {
    return HttpVersion::kHttp11;
  }
  return std::nullopt;
}

}  // namespace

Http1Parser::Http1Parser(ParserCallbacks& callbacks, Limits limits)
    : callbacks_(callbacks), limits_(limits), body_limit_(limits.max_body_bytes) {}

void Http1Parser::Reset() {
  state_ = State::kRequestLine;
  paused_ = false;
  error_ = ParseError{};
  version_.reset();
  scanned_ = 0;
  body_limit_ = limits_.max_body_bytes;
  body_left_ = 0;
  chunked_bytes_ = 0;
  trailer_line_ = 0;
  trailer_cr_ = false;
  trailer_bytes_ = 0;
  trailer_fields_ = 0;
}

ParseResult Http1Parser::Execute(std::string_view data) {
  ParseResult result;
  paused_ = false;
  while (true) {
    if (state_ == State::kError) {
      result.status = ParseStatus::kError;
      return result;
    }
    if (paused_) {
      paused_ = false;
      result.status = ParseStatus::kPaused;
      return result;
    }
    const std::string_view input = data.substr(result.consumed);
    size_t used = 0;
    Step step = Step::kNext;
    switch (state_) {
      case State::kRequestLine:
        step = ReadRequestLine(input, used);
        break;
      case State::kVersion:
        if (!version_) {
          step = Fail(505, "the HTTP version is not HTTP/1.1 or HTTP/1.0");
          break;
        }
        state_ = State::kHead;
        scanned_ = 0;
        break;
      case State::kHead:
        step = ReadHead(input, used);
        break;
      case State::kBody:
        step = ReadBody(input, used);
        break;
      case State::kChunkSize:
        step = ReadChunkSize(input, used);
        break;
      case State::kChunkData:
        step = ReadChunkData(input, used);
        break;
      case State::kChunkDataEnd:
        step = ReadChunkDataEnd(input, used);
        break;
      case State::kTrailer:
        step = SkipTrailer(input, used);
        break;
      case State::kError:
        break;
    }
    result.consumed += used;
    switch (step) {
      case Step::kNext:
        break;
      case Step::kNeedMore:
        result.status = ParseStatus::kNeedMore;
        return result;
      case Step::kDone:
        paused_ = false;
        result.status = ParseStatus::kDone;
        return result;
      case Step::kError:
        state_ = State::kError;
        result.status = ParseStatus::kError;
        return result;
    }
  }
}

Http1Parser::Step Http1Parser::Fail(int status, std::string reason, uint64_t limit_bytes) {
  error_ = ParseError{status, std::move(reason), limit_bytes};
  state_ = State::kError;
  return Step::kError;
}

bool Http1Parser::Accept(CallbackResult result) {
  if (result.error) {
    Fail(result.error->status, std::move(result.error->reason), result.error->limit_bytes);
    return false;
  }
  paused_ = paused_ || result.pause;
  return true;
}

bool Http1Parser::FindLineEnd(std::string_view input, const char* bare_lf, size_t& eol) {
  const size_t lf = input.find('\n');
  if (lf == std::string_view::npos) {
    eol = lf;
    return true;
  }
  if (lf == 0 || input[lf - 1] != '\r') {
    Fail(400, bare_lf);
    return false;
  }
  eol = lf - 1;
  return true;
}

namespace {

// How long the first line of `input` is so far: up to its CR (`eol`), or, while it has not
// ended, all of it but a CR at its end (which may be the CR of its CRLF), so that a limit gives
// the same answer however the bytes are cut.
size_t LineLength(std::string_view input, size_t eol) {
  if (eol != std::string_view::npos) {
    return eol;
  }
  return input.size() - (!input.empty() && input.back() == '\r' ? 1 : 0);
}

}  // namespace

// Pistache's request-line step waited for more bytes, until the header timeout, when a line had
// ended without a version ("GET /x"), and read a bare LF into the version (a 505). A request
// line is checked here first: method, target and version, each after one space, ended by CRLF
// (RFC 9112 3).
Http1Parser::Step Http1Parser::ReadRequestLine(std::string_view input, size_t& consumed) {
  // RFC 9112 2.2: empty lines before a request line are ignored.
  size_t skip = 0;
  while (skip < input.size() && (input[skip] == '\r' || input[skip] == '\n')) {
    ++skip;
  }
  consumed = skip;
  input.remove_prefix(skip);
  if (input.empty()) {
    return Step::kNeedMore;
  }
  size_t eol = 0;
  if (!FindLineEnd(input, "the request line ends in a bare LF", eol)) {
    return Step::kError;
  }
  if (LineLength(input, eol) > limits_.max_request_line_bytes) {
    return Fail(414, "its request line is longer than the limit");
  }
  if (eol == std::string_view::npos) {
    return Step::kNeedMore;
  }
  const std::string_view line = input.substr(0, eol);
  const size_t first = line.find(' ');
  const size_t second = first == std::string_view::npos ? first : line.find(' ', first + 1);
  if (first == 0 || second == std::string_view::npos || second == first + 1 ||
      line.find(' ', second + 1) != std::string_view::npos ||
      line.find_first_of(std::string_view("\r\0\t", 3)) != std::string_view::npos) {
    return Fail(400, "the request line is not a method, a target and a version");
  }
  const std::string_view version = line.substr(second + 1);
  version_ = ParseVersion(version);
  consumed += eol + 2;
  state_ = State::kVersion;
  if (!Accept(callbacks_.OnRequestLine(line.substr(0, first),
                                       line.substr(first + 1, second - first - 1), version))) {
    return Step::kError;
  }
  return Step::kNext;
}

// A body framed by Content-Length (or none: then the message ends with its head).
Http1Parser::Step Http1Parser::ReadBody(std::string_view input, size_t& consumed) {
  if (body_left_ == 0) {
    state_ = State::kRequestLine;
    return Accept(callbacks_.OnMessageComplete()) ? Step::kDone : Step::kError;
  }
  if (input.empty()) {
    return Step::kNeedMore;
  }
  const size_t n = static_cast<size_t>(std::min<uint64_t>(input.size(), body_left_));
  consumed = n;
  body_left_ -= n;
  return Accept(callbacks_.OnBodyData(input.substr(0, n))) ? Step::kNext : Step::kError;
}

}  // namespace civic::http
