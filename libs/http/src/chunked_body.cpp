// Http1Parser's reading of a chunked body (RFC 9112 7.1): chunk-size lines and their
// extensions, chunk data checked against the body limit before it is kept, and the trailer
// section after the last chunk, skipped.
#include <algorithm>
#include <cctype>

#include "http1_parser.hpp"

namespace civic::http {

namespace {

// What a chunk-size line holds: its size, or why it cannot be read.
struct ChunkSizeLine {
  uint64_t size = 0;
  std::optional<ParseError> error;
};

// A chunk-size line without its CRLF: 1*HEXDIG, then nothing or chunk extensions
// (*( BWS ";" ... ), read as visible characters, spaces and tabs, and ignored).
ChunkSizeLine ReadChunkSizeLine(std::string_view line) {
  const auto refuse = [](const char* reason) {
    return ChunkSizeLine{0, ParseError{400, reason, 0}};
  };
  size_t i = 0;
  uint64_t size = 0;
  size_t significant = 0;
  for (; i < line.size() && std::isxdigit(static_cast<unsigned char>(line[i])) != 0; ++i) {
    const char c = line[i];
    const uint64_t digit =
        c <= '9' ? static_cast<uint64_t>(c - '0') : static_cast<uint64_t>((c | 0x20) - 'a' + 10);
    if (significant > 0 || digit != 0) {
      if (++significant > 15) {
        // 16 significant hex digits are at least 2^60 bytes: more than any request may have.
        return ChunkSizeLine{0, ParseError{413, "a chunk is larger than the limit", 0}};
      }
    }
    size = size * 16 + digit;
  }
  if (i == 0) {
    return refuse("a chunk size is not a hexadecimal number");
  }
  size_t ext = i;
  while (ext < line.size() && (line[ext] == ' ' || line[ext] == '\t')) {
    ++ext;
  }
  if (i == line.size()) {
    return ChunkSizeLine{size, std::nullopt};
  }
  if (ext == line.size() || line[ext] != ';') {
    return refuse("a chunk size is not a hexadecimal number");
  }
  for (; ext < line.size(); ++ext) {
    const auto c = static_cast<unsigned char>(line[ext]);
    if ((c < 0x20 && c != '\t') || c == 0x7f) {
      return refuse("a chunk extension holds a control character");
    }
  }
  return ChunkSizeLine{size, std::nullopt};
}

}  // namespace

// In place of Pistache's chunk step, which reserved memory for each chunk's declared size
// before any limit (a 1 GB chunk-size line took 1.6 GB of address space, never given back),
// answered a size it could not hold with the exception's text (std::bad_alloc), and refused
// chunk extensions, which RFC 9112 7.1.1 says to ignore. Here a chunk that would take the body
// past its limit is a 413 before anything is kept; extensions are ignored; the data goes to the
// callbacks as it arrives. The message ends, as Pistache's did, after the last chunk's size
// line; the trailer section is skipped after it (SkipTrailer).
Http1Parser::Step Http1Parser::ReadChunkSize(std::string_view input, size_t& consumed) {
  size_t eol = 0;
  if (!FindLineEnd(input, "a chunk-size line ends in a bare LF", eol)) {
    return Step::kError;
  }
  const size_t length = eol != std::string_view::npos
                            ? eol
                            : input.size() - (!input.empty() && input.back() == '\r' ? 1 : 0);
  if (length > limits_.max_chunk_line_bytes) {
    return Fail(400, "a chunk-size line is too long");
  }
  if (eol == std::string_view::npos) {
    return Step::kNeedMore;
  }
  ChunkSizeLine line = ReadChunkSizeLine(input.substr(0, eol));
  if (line.error) {
    return Fail(line.error->status, std::move(line.error->reason), line.error->limit_bytes);
  }
  // The size stays under 2^60 and chunked_bytes_ under the limit: the sum cannot overflow.
  if (chunked_bytes_ + line.size > body_limit_) {
    return Fail(413, "its body is larger than the limit", body_limit_);
  }
  consumed = eol + 2;
  if (line.size == 0) {
    state_ = State::kTrailer;
    trailer_line_ = 0;
    trailer_cr_ = false;
    trailer_bytes_ = 0;
    trailer_fields_ = 0;
    return Accept(callbacks_.OnMessageComplete()) ? Step::kDone : Step::kError;
  }
  body_left_ = line.size;
  chunked_bytes_ += line.size;
  state_ = State::kChunkData;
  return Step::kNext;
}

Http1Parser::Step Http1Parser::ReadChunkData(std::string_view input, size_t& consumed) {
  if (input.empty()) {
    return Step::kNeedMore;
  }
  const size_t n = static_cast<size_t>(std::min<uint64_t>(input.size(), body_left_));
  consumed = n;
  body_left_ -= n;
  if (body_left_ == 0) {
    state_ = State::kChunkDataEnd;
  }
  return Accept(callbacks_.OnBodyData(input.substr(0, n))) ? Step::kNext : Step::kError;
}

Http1Parser::Step Http1Parser::ReadChunkDataEnd(std::string_view input, size_t& consumed) {
  if (input.size() < 2) {
    if (!input.empty() && input[0] != '\r') {
      return Fail(400, "a chunk's data is not followed by CRLF");
    }
    return Step::kNeedMore;
  }
  if (input[0] != '\r' || input[1] != '\n') {
    return Fail(400, "a chunk's data is not followed by CRLF");
  }
  consumed = 2;
  state_ = State::kChunkSize;
  return Step::kNext;
}

// The trailer section (fields, then an empty line) is skipped, line by line, as it comes. Its
// lines end in CRLF like the head's (a bare LF or CR is a 400: read as a line end, it would let a
// request hide in the trailer from a proxy that reads CRLF only), and it has the head's limits:
// kMaxHeaderBytes in all and kMaxHeaderFields lines (431), each line at most
// max_trailer_line_bytes (400).
Http1Parser::Step Http1Parser::SkipTrailer(std::string_view input, size_t& consumed) {
  for (size_t i = 0; i < input.size(); ++i) {
    const char c = input[i];
    consumed = i + 1;
    if (++trailer_bytes_ > kMaxHeaderBytes) {
      return Fail(431, "its chunked body's trailer section is longer than the limit");
    }
    if (trailer_cr_ && c != '\n') {
      return Fail(400, "a line of its chunked body's trailer section holds a bare CR");
    }
    if (c == '\n') {
      if (!trailer_cr_) {
        return Fail(400, "a line of its chunked body's trailer section ends in a bare LF");
      }
      const bool empty = trailer_line_ == 1;  // the line was its CR alone
      trailer_line_ = 0;
      trailer_cr_ = false;
      if (empty) {
        trailer_bytes_ = 0;
        trailer_fields_ = 0;
        state_ = State::kRequestLine;
        return Step::kDone;
      }
      if (++trailer_fields_ > kMaxHeaderFields) {
        return Fail(431, "its chunked body's trailer section has more fields than the limit");
      }
      continue;
    }
    if (c == '\0') {
      return Fail(400, "a line of its chunked body's trailer section holds a NUL");
    }
    trailer_cr_ = c == '\r';
    if (++trailer_line_ > limits_.max_trailer_line_bytes) {
      return Fail(400, "a line of its chunked body's trailer section is too long");
    }
  }
  consumed = input.size();
  return Step::kNeedMore;
}

}  // namespace civic::http
