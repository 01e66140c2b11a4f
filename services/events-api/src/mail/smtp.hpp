#pragma once

// Sending one message over SMTP with libcurl: STARTTLS when the server offers it (smtp://),
// TLS from the start (smtps://), AUTH when a user is configured.

#include <string>

#include "mail/composer.hpp"
#include "webhooks/sender.hpp"

namespace civic::events::mail {

// Sends `message` to `recipient`. The result's outcome is "ok", "http_error" (the server
// refused: status_code is its SMTP reply code), "timeout" or "unreachable"; its error never
// holds an address. Thread-safe (an easy handle per call; curl_global_init is done at start).
webhooks::SendResult Send(const MailSettings& settings, const std::string& recipient,
                          const std::string& message);

// curl_global_init, once, before threads start.
void InitCurl();

}  // namespace civic::events::mail
