// E-mail bytes: RFC 2047 subjects, template filling, the .ics, and the templates shipped in the
// repository (every kind, text and HTML, with its subject line).
#include <catch2/catch.hpp>

#include <string>

#include "civic/domain/time.hpp"
#include "mail/composer.hpp"
#include "mail/message.hpp"
#include "webhooks/signature.hpp"

using civic::events::mail::EncodeHeader;
using civic::events::mail::Fill;

TEST_CASE("Mail headers: Cyrillic subjects become encoded-words of at most 75 characters",
          "[events][mail]") {
  CHECK(EncodeHeader("Reminder") == "Reminder");
  const std::string subject = "Место освободилось — вы участник: Школа ТОС: соседские центры";
  const std::string encoded = EncodeHeader(subject);
  std::string decoded;
  size_t start = 0;
  while (start < encoded.size()) {
    size_t end = encoded.find("\r\n ", start);
    const std::string word =
        encoded.substr(start, end == std::string::npos ? std::string::npos : end - start);
    CHECK(word.size() <= 75);
    REQUIRE(word.rfind("=?UTF-8?B?", 0) == 0);
    REQUIRE(word.substr(word.size() - 2) == "?=");
    const auto bytes = civic::events::webhooks::FromBase64(word.substr(10, word.size() - 12));
    REQUIRE(bytes);
    decoded += *bytes;
    start = end == std::string::npos ? encoded.size() : end + 3;
  }
  CHECK(decoded == subject);  // split between characters, never inside one
}

TEST_CASE("Mail templates: values fill {{names}}, escaped in HTML", "[events][mail]") {
  const std::map<std::string, std::string> values = {{"name", "О'Нил <Иван> & Ко"}};
  CHECK(Fill("Здравствуйте, {{name}}! {{unknown}}", values, false) ==
        "Здравствуйте, О'Нил <Иван> & Ко! {{unknown}}");
  CHECK(Fill("<p>{{name}}</p>", values, true) == "<p>О&#39;Нил &lt;Иван&gt; &amp; Ко</p>");
}

TEST_CASE("Mail calendar: the event in its zone with a VTIMEZONE, text escaped, lines folded",
          "[events][mail]") {
  civic::Event event;
  event.id = 7;
  event.title = "Школа ТОС; кейс-сессия, день 1: " + std::string(60, 'x');
  event.venue = "Дом дружбы народов";
  event.starts_at = *civic::ParseInstant("2026-12-01T10:00:00+09:00");
  event.ends_at = *civic::ParseInstant("2026-12-01T18:00:00+09:00");
  event.time_zone = "Asia/Yakutsk";
  event.status = "cancelled";
  const civic::Instant now = *civic::ParseInstant("2026-11-20T08:30:00Z");
  const std::string ics = civic::events::mail::Ics(event, "Якутск", now);
  CHECK(ics.find("METHOD:PUBLISH\r\n") != std::string::npos);
  CHECK(ics.find("BEGIN:VTIMEZONE\r\nTZID:Asia/Yakutsk\r\n") != std::string::npos);
  CHECK(ics.find("DTSTART;TZID=Asia/Yakutsk:20261201T100000\r\n") != std::string::npos);
  CHECK(ics.find("DTEND;TZID=Asia/Yakutsk:20261201T180000\r\n") != std::string::npos);
  CHECK(ics.find("DTSTAMP:20261120T083000Z\r\n") != std::string::npos);  // when it was made
  CHECK(ics.find("UID:event-7@civic-platform\r\n") != std::string::npos);
  CHECK(ics.find("SUMMARY:Школа ТОС\\; кейс-сессия\\, день 1: ") != std::string::npos);
  CHECK(ics.find("LOCATION:Дом дружбы народов\\, Якутск\r\n") != std::string::npos);
  CHECK(ics.find("STATUS:CANCELLED\r\n") != std::string::npos);
  size_t start = 0;
  while (start < ics.size()) {
    const size_t end = ics.find("\r\n", start);
    REQUIRE(end != std::string::npos);
    CHECK(end - start <= 75);
    start = end + 2;
  }
}

TEST_CASE("Mail calendar: an event whose zone is unknown is written in UTC", "[events][mail]") {
  civic::Event event;
  event.id = 8;
  event.title = "Форум";
  event.starts_at = *civic::ParseInstant("2026-12-01T10:00:00+09:00");
  event.ends_at = *civic::ParseInstant("2026-12-01T18:00:00+09:00");
  const std::string ics = civic::events::mail::Ics(event, "", event.starts_at);
  CHECK(ics.find("DTSTART:20261201T010000Z\r\n") != std::string::npos);
  CHECK(ics.find("DTEND:20261201T090000Z\r\n") != std::string::npos);
  CHECK(ics.find("VTIMEZONE") == std::string::npos);
}

TEST_CASE("Mail templates: every kind is in the repository, in text and HTML, with a subject",
          "[events][mail]") {
  const auto templates = civic::events::mail::LoadTemplates(CIVIC_MAIL_TEMPLATES_DIR);
  for (const auto& kind : civic::events::mail::Kinds()) {
    INFO(kind);
    REQUIRE(templates.count(kind) == 1);
    CHECK(templates.at(kind).subject.find("{{event_title}}") != std::string::npos);
    CHECK(templates.at(kind).text.find("{{name}}") != std::string::npos);
    CHECK(templates.at(kind).html.find("<html lang=\"ru\">") != std::string::npos);
  }
  CHECK_THROWS_WITH(civic::events::mail::LoadTemplates("/nonexistent"),
                    Catch::Contains("/nonexistent/confirmed.txt"));
}
