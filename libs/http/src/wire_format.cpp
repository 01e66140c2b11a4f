// Wire format: the bytes of an answer (status line, headers, framing, body), as Pistache's writer
// produced them before the server wrote answers itself.
#include "wire_format.hpp"

#include "civic/http/problem.hpp"

namespace civic::http {

// The status line and headers of `response`, up to the header fields that frame its body.
void AppendHead(std::string& out, const Response& response, const Fields& extra_headers,
                bool close) {
  out += "HTTP/1.1 ";
  out += std::to_string(response.status);
  out += ' ';
  out += ReasonPhrase(response.status);
  out += "\r\n";
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
std::string Serialize(const Response& response, const Fields& extra_headers, bool head_only,
                      bool close) {
  const bool no_content = response.status == 204 || response.status == 304;
  std::string out;
  out.reserve(160 + response.body.size() + response.headers.size() * 48);
  AppendHead(out, response, extra_headers, close);
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
