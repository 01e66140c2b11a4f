#include "mail/message.hpp"

#include <chrono>
#include <cstdio>

#include "calendar/entries.hpp"
#include "webhooks/signature.hpp"

namespace civic::events::mail {

namespace {

bool PrintableAscii(std::string_view text) {
  for (const char c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7E) {
      return false;
    }
  }
  return true;
}

std::string HtmlEscape(std::string_view text) {
  std::string out;
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string RfcDate(Instant instant) {
  const std::time_t t = std::chrono::system_clock::to_time_t(
      std::chrono::time_point_cast<std::chrono::system_clock::duration>(instant));
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buffer[64];
  std::strftime(buffer, sizeof buffer, "%a, %d %b %Y %H:%M:%S +0000", &tm);
  return buffer;
}

}  // namespace

std::string EncodeHeader(std::string_view text) {
  if (PrintableAscii(text)) {
    return std::string(text);
  }
  // Each encoded-word "=?UTF-8?B?" + base64 + "?=" stays within 75 characters: 45 bytes of
  // text make 60 of base64.
  std::string out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = std::min(text.size(), start + 45);
    while (end < text.size() && end > start &&
           (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) {
      --end;
    }
    if (!out.empty()) {
      out += "\r\n ";
    }
    out += "=?UTF-8?B?" + webhooks::Base64(text.substr(start, end - start)) + "?=";
    start = end;
  }
  return out;
}

std::string Base64Lines(std::string_view bytes) {
  const std::string encoded = webhooks::Base64(bytes);
  std::string out;
  for (size_t i = 0; i < encoded.size(); i += 76) {
    out += encoded.substr(i, 76) + "\r\n";
  }
  return out;
}

std::string Fill(std::string_view text, const std::map<std::string, std::string>& values,
                 bool html) {
  std::string out;
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t open = text.find("{{", pos);
    if (open == std::string_view::npos) {
      out += text.substr(pos);
      break;
    }
    const size_t close = text.find("}}", open + 2);
    if (close == std::string_view::npos) {
      out += text.substr(pos);
      break;
    }
    out += text.substr(pos, open - pos);
    const std::string name(text.substr(open + 2, close - open - 2));
    const auto it = values.find(name);
    if (it == values.end()) {
      out += text.substr(open, close + 2 - open);
    } else {
      out += html ? HtmlEscape(it->second) : it->second;
    }
    pos = close + 2;
  }
  return out;
}

std::string Ics(const Event& event, const std::string& city, Instant now) {
  calendar::Calendar ics;
  ics.method = "PUBLISH";
  calendar::Entry entry = calendar::EventEntry(event, city);
  entry.stamp = now;  // with a METHOD, DTSTAMP is when the file was made (RFC 5545 3.8.7.2)
  ics.entries.push_back(std::move(entry));
  return calendar::Write(ics);
}

std::string Render(const Message& message) {
  const std::string mixed = "mixed_" + message.message_id;
  const std::string alternative = "alt_" + message.message_id;
  std::string out;
  out += "From: " + message.from + "\r\n";
  out += "To: " + message.to + "\r\n";
  out += "Subject: " + EncodeHeader(message.subject) + "\r\n";
  out += "Date: " + RfcDate(message.date) + "\r\n";
  out += "Message-ID: <" + message.message_id + ">\r\n";
  out += "MIME-Version: 1.0\r\n";
  out += "Content-Type: multipart/mixed; boundary=\"" + mixed + "\"\r\n";
  out += "\r\n";
  out += "--" + mixed + "\r\n";
  out += "Content-Type: multipart/alternative; boundary=\"" + alternative + "\"\r\n\r\n";
  out += "--" + alternative + "\r\n";
  out += "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n";
  out += Base64Lines(message.text);
  out += "--" + alternative + "\r\n";
  out += "Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n";
  out += Base64Lines(message.html);
  out += "--" + alternative + "--\r\n";
  if (!message.ics.empty()) {
    out += "--" + mixed + "\r\n";
    out +=
        "Content-Type: text/calendar; charset=utf-8; method=PUBLISH; name=\"event.ics\"\r\n"
        "Content-Disposition: attachment; filename=\"event.ics\"\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\n";
    out += Base64Lines(message.ics);
  }
  out += "--" + mixed + "--\r\n";
  return out;
}

}  // namespace civic::events::mail
