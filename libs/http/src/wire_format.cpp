// Wire format: the bytes of an answer (status line, headers, framing, body), as Pistache's writer
// produced them before the server wrote answers itself.
#include "wire_format.hpp"

#include <cstdio>
#include <ctime>

#include "civic/http/problem.hpp"

namespace civic::http {

// The current time as an HTTP-date (RFC 9110 5.6.7, "Sun, 06 Nov 1994 08:49:37 GMT"), formatted
// once a second per thread (names spelt out here: strftime's follow the locale).
const std::string& HttpDate() {
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  thread_local std::time_t formatted_at = -1;
  thread_local std::string text;
  const std::time_t now = std::time(nullptr);
  if (now != formatted_at) {
    std::tm utc{};
    gmtime_r(&now, &utc);
    char buffer[40];
    std::snprintf(buffer, sizeof buffer, "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[utc.tm_wday],
                  utc.tm_mday, kMonths[utc.tm_mon], utc.tm_year + 1900, utc.tm_hour, utc.tm_min,
                  utc.tm_sec);
    text = buffer;
    formatted_at = now;
  }
  return text;
}

// The status line and headers of `response`, up to the header fields that frame its body.
void AppendHead(std::string& out, const Response& response, std::string_view request_id,
                const Fields& extra_headers, bool close) {
  out += "HTTP/1.1 ";
  out += std::to_string(response.status);
  out += ' ';
  out += ReasonPhrase(response.status);
  out += "\r\nDate: ";
  out += HttpDate();
  out += "\r\n";
  if (!request_id.empty()) {
    out += "X-Request-Id: ";
    out += request_id;
    out += "\r\n";
  }
  for (const Fields* headers : {&response.headers, &extra_headers}) {
    for (const auto& [name, value] : *headers) {
      out += name;
      out += ": ";
      out += value;
      out += "\r\n";
    }
  }
  if (!response.content_type.empty()) {
    out += "Content-Type: ";
    out += response.content_type;
    out += "\r\n";
  }
  out += close ? "Connection: Close\r\n" : "Connection: Keep-Alive\r\n";
}

// The head and body of `response` as they go on the wire: what Pistache's writer produced
// before, header for header, with the framing RFC 9110 asks for (section 8.6): a HEAD answer
// says the Content-Length its GET would have had and sends no body; a 204 has no
// Content-Length; a 304 has no body and says Content-Length: 0 (Debian's cpp-httplib 0.11,
// the ballot's own sync client among them, reads a 304's body up to its length, or up to the
// end of the connection when none is given).
std::string Serialize(const Response& response, std::string_view request_id,
                      const Fields& extra_headers, bool head_only, bool close) {
  const bool no_content = response.status == 204 || response.status == 304;
  std::string out;
  out.reserve(160 + response.body.size() + response.headers.size() * 48);
  AppendHead(out, response, request_id, extra_headers, close);
  if (response.status != 204) {
    out += "Content-Length: ";
    out += no_content ? std::string("0") : std::to_string(response.body.size());
    out += "\r\n";
  }
  out += "\r\n";
  if (!no_content && !head_only) {
    out += response.body;
  }
  return out;
}

}  // namespace civic::http
