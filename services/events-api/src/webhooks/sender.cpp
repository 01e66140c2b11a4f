#include "webhooks/sender.hpp"

#include <httplib.h>

namespace civic::events::webhooks {

SendResult Post(const Url& url, const std::string& address,
                const std::vector<std::pair<std::string, std::string>>& headers,
                const std::string& body, std::chrono::milliseconds timeout) {
  const bool ipv6_literal = url.host.find(':') != std::string::npos;
  const std::string host = ipv6_literal ? "[" + url.host + "]" : url.host;
  const std::string origin =
      (url.https ? "https://" : "http://") + host + ":" + std::to_string(url.port);
  httplib::Client client(origin);
  client.set_hostname_addr_map({{url.host, address}});
  client.set_tcp_nodelay(true);
  client.set_keep_alive(false);
  client.set_follow_location(false);
  client.set_connection_timeout(timeout);
  client.set_read_timeout(timeout);
  client.set_write_timeout(timeout);
  if (url.https) {
    client.enable_server_certificate_verification(true);
  }

  httplib::Request request;
  request.method = "POST";
  request.path = url.target;
  for (const auto& [name, value] : headers) {
    request.headers.emplace(name, value);
  }
  request.headers.emplace("Content-Type", "application/json");
  request.body = body;
  request.content_receiver = [](const char*, size_t, uint64_t, uint64_t) { return true; };

  httplib::Response response;
  httplib::Error error = httplib::Error::Success;
  const auto started = std::chrono::steady_clock::now();
  const bool sent = client.send(request, response, error);
  SendResult result;
  result.duration_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::steady_clock::now() - started)
                           .count();
  if (!sent) {
    const bool timed_out = error == httplib::Error::Read || error == httplib::Error::Write ||
                           error == httplib::Error::ConnectionTimeout;
    result.outcome = timed_out ? "timeout" : "unreachable";
    result.error = httplib::to_string(error);
    return result;
  }
  result.status_code = response.status;
  if (response.status >= 200 && response.status < 300) {
    result.outcome = "ok";
  } else {
    result.outcome = "http_error";
    result.error = "answered HTTP " + std::to_string(response.status);
  }
  return result;
}

}  // namespace civic::events::webhooks
