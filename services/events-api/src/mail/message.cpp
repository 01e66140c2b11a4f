#include "mail/message.hpp"

#include <chrono>
#include <cstdio>

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

// iCalendar TEXT escaping (RFC 5545 3.3.11).
std::string IcsText(std::string_view text) {
  std::string out;
  for (const char c : text) {
    if (c == '\\' || c == ';' || c == ',') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c != '\r') {
      out += c;
    }
  }
  return out;
}

// Folds a content line at 75 octets, not inside a UTF-8 character; CRLF after each part.
std::string Folded(const std::string& line) {
  std::string out;
  size_t start = 0;
  size_t limit = 75;
  while (line.size() - start > limit) {
    size_t end = start + limit;
    while (end > start && (static_cast<unsigned char>(line[end]) & 0xC0) == 0x80) {
      --end;
    }
    out += line.substr(start, end - start) + "\r\n ";
    start = end;
    limit = 74;  // the leading space counts
  }
  return out + line.substr(start) + "\r\n";
}

std::string UtcStamp(Instant instant) {
  // "2026-12-01T10:00:00.000Z" -> "20261201T100000Z"
  const std::string iso = FormatUtc(instant);
  std::string out;
  for (const char c : iso.substr(0, 19)) {
    if (c != '-' && c != ':') {
      out += c;
    }
  }
  return out + "Z";
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
  std::string location = event.venue;
  if (!city.empty()) {
    location += (location.empty() ? "" : ", ") + city;
  }
  std::string out;
  out += "BEGIN:VCALENDAR\r\n";
  out += "VERSION:2.0\r\n";
  out += "PRODID:-//civic-platform//events-api//RU\r\n";
  out += "METHOD:PUBLISH\r\n";
  out += "BEGIN:VEVENT\r\n";
  out += "UID:event-" + std::to_string(event.id) + "@civic-platform\r\n";
  out += "DTSTAMP:" + UtcStamp(now) + "\r\n";
  out += "DTSTART:" + UtcStamp(event.starts_at) + "\r\n";
  out += "DTEND:" + UtcStamp(event.ends_at) + "\r\n";
  out += "SEQUENCE:" +
         std::to_string(
             std::chrono::duration_cast<std::chrono::seconds>(event.updated_at.time_since_epoch())
                 .count()) +
         "\r\n";
  out += Folded("SUMMARY:" + IcsText(event.title));
  if (!location.empty()) {
    out += Folded("LOCATION:" + IcsText(location));
  }
  out +=
      std::string("STATUS:") + (event.status == "cancelled" ? "CANCELLED" : "CONFIRMED") + "\r\n";
  out += "END:VEVENT\r\n";
  out += "END:VCALENDAR\r\n";
  return out;
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
