#include "mail/smtp.hpp"

#include <curl/curl.h>

#include <chrono>
#include <cstring>
#include <mutex>

namespace civic::events::mail {

namespace {

struct Upload {
  const std::string* data;
  size_t offset = 0;
};

size_t ReadChunk(char* buffer, size_t size, size_t count, void* user) {
  auto* upload = static_cast<Upload*>(user);
  const size_t room = size * count;
  const size_t left = upload->data->size() - upload->offset;
  const size_t n = std::min(room, left);
  std::memcpy(buffer, upload->data->data() + upload->offset, n);
  upload->offset += n;
  return n;
}

}  // namespace

void InitCurl() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

webhooks::SendResult Send(const MailSettings& settings, const std::string& recipient,
                          const std::string& message) {
  InitCurl();
  webhooks::SendResult result;
  CURL* curl = curl_easy_init();
  if (curl == nullptr) {
    result.outcome = "unreachable";
    result.error = "libcurl could not start";
    return result;
  }
  curl_slist* recipients = curl_slist_append(nullptr, ("<" + recipient + ">").c_str());
  Upload upload{&message};
  const std::string from = "<" + settings.from + ">";
  curl_easy_setopt(curl, CURLOPT_URL, settings.smtp_url.c_str());
  curl_easy_setopt(curl, CURLOPT_MAIL_FROM, from.c_str());
  curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, recipients);
  curl_easy_setopt(curl, CURLOPT_READFUNCTION, ReadChunk);
  curl_easy_setopt(curl, CURLOPT_READDATA, &upload);
  curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(curl, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_TRY));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(settings.timeout.count()));
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(settings.timeout.count()));
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
  if (!settings.user.empty()) {
    curl_easy_setopt(curl, CURLOPT_USERNAME, settings.user.c_str());
    curl_easy_setopt(curl, CURLOPT_PASSWORD, settings.password.c_str());
  }
  const auto started = std::chrono::steady_clock::now();
  const CURLcode rc = curl_easy_perform(curl);
  result.duration_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::steady_clock::now() - started)
                           .count();
  long reply = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &reply);
  result.status_code = static_cast<int>(reply);
  if (rc == CURLE_OK) {
    result.outcome = "ok";
  } else if (rc == CURLE_OPERATION_TIMEDOUT) {
    result.outcome = "timeout";
    result.error = curl_easy_strerror(rc);
  } else if (reply >= 400) {
    result.outcome = "http_error";
    result.error = std::string(curl_easy_strerror(rc)) + " (SMTP " + std::to_string(reply) + ")";
  } else {
    result.outcome = "unreachable";
    result.error = curl_easy_strerror(rc);
  }
  curl_slist_free_all(recipients);
  curl_easy_cleanup(curl);
  return result;
}

}  // namespace civic::events::mail
