// Http1Parser's reading of a request's head: the header section and its limits (431), each
// field line, the fields that frame the body (Content-Length, Transfer-Encoding: 400, 413,
// 501), Host, Content-Type (415); and what a head says beyond the parser: the target's path
// (absolute form) and whether the connection ends after the request.
#include <algorithm>
#include <limits>
#include <string>

#include "http1_parser.hpp"
#include "http1_syntax.hpp"

namespace civic::http {

namespace {

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

// How many bytes at the end of `input` may begin the CRLF CRLF that ends a header section.
size_t PartialSectionEnd(std::string_view input) {
  for (const std::string_view end : {"\r\n\r", "\r\n", "\r"}) {
    if (input.size() >= end.size() && input.substr(input.size() - end.size()) == end) {
      return end.size();
    }
  }
  return 0;
}

}  // namespace

// In place of Pistache's header step, which for each line made a typed header (and its parse)
// where the registry knew the name, kept a raw copy too, and hashed and compared through
// lowercased copies of the name (7 % of the network threads' time under single votes, and the
// typed headers were printed back to text for handlers after it). The fields go to the
// callbacks as read. Waits, consuming nothing, until the section has ended.
Http1Parser::Step Http1Parser::ReadHead(std::string_view input, size_t& consumed) {
  size_t end = 0;  // of the section, past its empty line
  if (input.size() >= 2 && input[0] == '\r' && input[1] == '\n') {
    end = 2;
  } else {
    const size_t from = scanned_ > 3 ? scanned_ - 3 : 0;
    const size_t at = input.find("\r\n\r\n", from);
    const size_t length =
        at != std::string_view::npos ? at : input.size() - PartialSectionEnd(input);
    if (length > limits_.max_header_bytes) {
      return Fail(431, "its header section is longer than the limit");
    }
    if (at == std::string_view::npos) {
      // A bare LF, or a CR before anything but LF, can never be part of a header section that
      // ends: refused now, not after the header timeout.
      for (size_t i = from; i < input.size(); ++i) {
        if ((input[i] == '\n' && (i == 0 || input[i - 1] != '\r')) ||
            (input[i] == '\r' && i + 1 < input.size() && input[i + 1] != '\n')) {
          return Fail(400, "a header line holds a bare CR, LF or NUL");
        }
      }
      scanned_ = input.size();
      return Step::kNeedMore;
    }
    end = at + 4;
  }
  scanned_ = 0;
  RequestHead head;
  head.version = version_.value_or(HttpVersion::kHttp11);
  int hosts = 0;
  if (ReadFields(input.substr(0, end - 2), head, hosts) == Step::kError) {
    return Step::kError;
  }
  if (head.version == HttpVersion::kHttp11 && hosts != 1) {
    return Fail(400, hosts == 0 ? "an HTTP/1.1 request needs a Host header"
                                : "it has more than one Host header");
  }
  if (head.version == HttpVersion::kHttp10 && head.chunked) {
    // RFC 9112 6.1: faulty framing, whatever the coding.
    return Fail(400, "an HTTP/1.0 request has no transfer coding");
  }
  consumed = end;
  body_limit_ = limits_.max_body_bytes;
  if (!Accept(callbacks_.OnHeadersComplete(head))) {
    return Step::kError;
  }
  // A body declared longer than the request may have is refused before it is read.
  if (head.content_length.value_or(0) > body_limit_) {
    return Fail(413, "its body is larger than the limit", body_limit_);
  }
  if (head.content_length && head.chunked) {
    // RFC 9112 6.1 lets a server refuse these; the text is Pistache's body step's, which
    // refused it before, so that the answer stays as it was.
    return Fail(400, "Got mutually exclusive ContentLength and TransferEncoding header");
  }
  if (head.chunked) {
    state_ = State::kChunkSize;
    chunked_bytes_ = 0;
  } else {
    state_ = State::kBody;
    body_left_ = head.content_length.value_or(0);
  }
  return Step::kNext;
}

// Refuses a line without a colon or with a name that is not a token (whitespace before the
// colon included, RFC 9112 5.1), a folded line, a bare CR, LF or NUL; Content-Length not one
// decimal number, or two that differ (RFC 9112 6.3: Pistache read `abc` as 0, `-1` as 2^64 - 1,
// and of two different ones took the first), or too large to hold (413, by the body limit); a
// transfer coding other than exactly `chunked` (501: Pistache took any prefix of it, `ch`
// included, for chunked, so a request ended where a proxy in front may not think it does); a
// Content-Type that is not a media type (415); more than max_header_fields (431).
Http1Parser::Step Http1Parser::ReadFields(std::string_view block, RequestHead& head, int& hosts) {
  std::optional<std::string> transfer_encoding;
  size_t fields = 0;
  while (!block.empty()) {
    if (fields == limits_.max_header_fields) {
      return Fail(431, "it has more header fields than the limit");
    }
    const size_t eol = block.find("\r\n");
    const std::string_view line = block.substr(0, eol);
    block.remove_prefix(eol + 2);
    if (line.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos) {
      return Fail(400, "a header line holds a bare CR, LF or NUL");
    }
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos || !IsToken(line.substr(0, colon))) {
      return Fail(400, line.empty() || line.front() == ' ' || line.front() == '\t'
                           ? "a header line is folded (obsolete line folding)"
                           : "a header line is not a name, a colon and a value");
    }
    name_.assign(line.substr(0, colon));
    std::transform(name_.begin(), name_.end(), name_.begin(), AsciiLower);
    const std::string_view value = TrimOws(line.substr(colon + 1));
    if (name_ == "content-length") {
      if (value.empty() ||
          !std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        return Fail(400, "its Content-Length header is not one decimal number");
      }
      // 10^18 bytes and more: larger than any route takes, so held as the largest number.
      const size_t first = value.find_first_not_of('0');
      const uint64_t length = first != std::string_view::npos && value.size() - first > 18
                                  ? std::numeric_limits<uint64_t>::max()
                                  : std::stoull(std::string(value));
      if (head.content_length.has_value() && *head.content_length != length) {
        return Fail(400, "its Content-Length header is not one decimal number");
      }
      head.content_length = length;
    } else if (name_ == "transfer-encoding") {
      // Only `chunked` alone is served; a list (`gzip, chunked`) or a second field is another
      // coding, refused below.
      transfer_encoding =
          transfer_encoding ? *transfer_encoding + ", " + std::string(value) : std::string(value);
    } else if (name_ == "host") {
      ++hosts;
    } else if (name_ == "content-type" && !IsMediaType(value)) {
      return Fail(415, "its Content-Type header is not a media type");
    }
    ++fields;
    if (!Accept(callbacks_.OnHeaderField(name_, value))) {
      return Step::kError;
    }
  }
  if (transfer_encoding && !EqualsIgnoreCase(*transfer_encoding, "chunked")) {
    return Fail(501, "only the chunked transfer coding is supported");
  }
  head.chunked = transfer_encoding.has_value();
  return Step::kNext;
}

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

bool EndsConnection(HttpVersion version, const Fields& fields) {
  if (version == HttpVersion::kHttp10) {
    return true;
  }
  for (const auto& [name, value] : fields) {
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

}  // namespace civic::http
