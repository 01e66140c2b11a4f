// E-mail to participants (issue #30): the events API sends through a local SMTP sink (Debian's
// python3-aiosmtpd, tests/functional/smtp_sink.py), which reads each message with Python's email
// package: recipients, the Cyrillic subject as RFC 2047 encoded-words, the text and HTML parts
// and the event's .ics. The seeds' Yakutsk school of territorial public self-government.
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "events_api_helpers.hpp"
#include "harness.hpp"

using civic::test::Call;
using civic::test::Create;
using civic::test::Eventually;
using civic::test::FromNow;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

std::string Path(const std::string& base, int64_t id, const std::string& tail = "") {
  return base + "/" + std::to_string(id) + tail;
}

// The sink, running until destroyed.
class SmtpSink {
 public:
  explicit SmtpSink(int refuse_first) {
    const std::string command = "/usr/bin/python3 " + civic::test::SourceDir() +
                                "/tests/functional/smtp_sink.py " + dir_.path() + " " +
                                std::to_string(refuse_first);
    process_ = popen(command.c_str(), "w");
    REQUIRE(process_ != nullptr);
    const std::string port_file = dir_.path() + "/port";
    REQUIRE(Eventually([&] { return std::filesystem::exists(port_file); }, 20s));
    std::ifstream in(port_file);
    in >> port_;
  }
  ~SmtpSink() { pclose(process_); }
  int port() const { return port_; }
  // The messages accepted so far, in order.
  std::vector<json> Messages() const {
    std::vector<std::string> files;
    for (const auto& entry : std::filesystem::directory_iterator(dir_.path())) {
      if (entry.path().extension() == ".json") {
        files.push_back(entry.path().string());
      }
    }
    std::sort(files.begin(), files.end());
    std::vector<json> messages;
    for (const auto& file : files) {
      std::ifstream in(file);
      std::stringstream text;
      text << in.rdbuf();
      messages.push_back(json::parse(text.str()));
    }
    return messages;
  }

 private:
  civic::test::TempDir dir_;
  FILE* process_ = nullptr;
  int port_ = 0;
};

const json* ByRecipientAndSubject(const std::vector<json>& messages, const std::string& to,
                                  const std::string& subject_start) {
  for (const auto& m : messages) {
    if (m["rcpt_tos"][0] == to && m["subject"].get<std::string>().rfind(subject_start, 0) == 0) {
      return &m;
    }
  }
  return nullptr;
}

}  // namespace

TEST_CASE("E-mail: participants get Russian letters with the event's .ics, through retries",
          "[events][mail]") {
  SmtpSink sink(1);  // the first message is refused with 451: it is sent again
  civic::test::ServiceOptions options;
  options.args = {"--smtp-url",
                  "smtp://127.0.0.1:" + std::to_string(sink.port()),
                  "--smtp-from",
                  "noreply@civic.example",
                  "--mail-reminder-hour",
                  "0",
                  "--webhook-retry-schedule",
                  "1s,1s,1s"};
  civic::test::Service service(civic::test::EventsApiBinary(), options);
  auto admin = service.Client();
  const int64_t yakutsk = Create(*admin, "/v1/cities",
                                 {{"name", "Якутск"},
                                  {"region", "Республика Саха (Якутия)"},
                                  {"time_zone", "Asia/Yakutsk"}})["id"];
  const std::string title = "Школа ТОС: соседские центры";
  const int64_t event = Create(*admin, "/v1/events",
                               {{"kind", "school"},
                                {"title", title},
                                {"city_id", yakutsk},
                                {"venue", "Дом дружбы народов"},
                                {"format", "offline"},
                                {"starts_at", FromNow(72h)},
                                {"ends_at", FromNow(74h)},
                                {"capacity", 1},
                                {"status", "published"}})["id"];
  auto person = [&](const std::string& name, const std::string& email) {
    return Create(*admin, "/v1/people",
                  {{"name", name}, {"city_id", yakutsk}, {"email", email}})["id"]
        .get<int64_t>();
  };
  const int64_t aiaal = person("Айаал Сивцев", "aiaal@example.ru");
  const int64_t sardana = person("Сардана Винокурова", "sardana@example.ru");
  const int64_t first =
      Create(*admin, Path("/v1/events", event, "/registrations"), {{"person_id", aiaal}})["id"];
  Create(*admin, Path("/v1/events", event, "/registrations"), {{"person_id", sardana}});
  REQUIRE(Call(*admin, "DELETE", Path("/v1/registrations", first)).status == 200);
  // Moved to tomorrow, in another hall: a change, and tomorrow's reminder.
  REQUIRE(Call(*admin, "PATCH", Path("/v1/events", event),
               {{"starts_at", FromNow(24h + 2min)},
                {"ends_at", FromNow(26h)},
                {"venue", "Национальная библиотека"}})
              .status == 200);

  REQUIRE(Eventually([&] { return sink.Messages().size() == 6; }, 40s));
  const auto messages = sink.Messages();
  const json* confirmed =
      ByRecipientAndSubject(messages, "aiaal@example.ru", "Регистрация подтверждена");
  const json* cancelled =
      ByRecipientAndSubject(messages, "aiaal@example.ru", "Регистрация отменена");
  const json* waitlisted =
      ByRecipientAndSubject(messages, "sardana@example.ru", "Вы в листе ожидания");
  const json* promoted =
      ByRecipientAndSubject(messages, "sardana@example.ru", "Место освободилось");
  const json* changed =
      ByRecipientAndSubject(messages, "sardana@example.ru", "Изменились время или место");
  const json* reminder = ByRecipientAndSubject(messages, "sardana@example.ru", "Завтра");
  REQUIRE(confirmed);
  REQUIRE(cancelled);
  REQUIRE(waitlisted);
  REQUIRE(promoted);
  REQUIRE(changed);
  REQUIRE(reminder);
  for (const auto& m : messages) {
    INFO(m.dump());
    CHECK(m["mail_from"] == "noreply@civic.example");
    CHECK(m["from"] == "noreply@civic.example");
    CHECK(m["to"] == m["rcpt_tos"][0]);
    // Cyrillic subjects travel as RFC 2047 encoded-words, and decode to the template's text.
    CHECK(m["raw_subject"].get<std::string>().rfind("=?UTF-8?B?", 0) == 0);
    CHECK(m["subject"].get<std::string>().find(title) != std::string::npos);
    CHECK(m["content_type"] == "multipart/mixed");
    CHECK(m["text"].get<std::string>().find("Здравствуйте") == 0);
    CHECK(m["html"].get<std::string>().find("<p>Здравствуйте") != std::string::npos);
    REQUIRE(m["attachments"].size() == 1);
    const json& ics = m["attachments"][0];
    CHECK(ics["filename"] == "event.ics");
    CHECK(ics["content_type"] == "text/calendar");
    CHECK(ics["method"] == "PUBLISH");
    const std::string calendar = ics["content"];
    CHECK(calendar.find("BEGIN:VCALENDAR") != std::string::npos);
    CHECK(calendar.find("UID:event-" + std::to_string(event) + "@civic-platform") !=
          std::string::npos);
    CHECK(calendar.find("SUMMARY:Школа ТОС: соседские центры") != std::string::npos);
    // The feeds' writer: times in Yakutsk's zone, with its VTIMEZONE.
    CHECK(calendar.find("BEGIN:VTIMEZONE\r\nTZID:Asia/Yakutsk\r\n") != std::string::npos);
    CHECK(calendar.find("DTSTART;TZID=Asia/Yakutsk:") != std::string::npos);
  }
  CHECK((*confirmed)["text"].get<std::string>().find("Айаал Сивцев") != std::string::npos);
  CHECK((*promoted)["text"].get<std::string>().find("Сардана Винокурова") != std::string::npos);
  // Times in the event's zone (Yakutsk, UTC+9); the change carries the new hall.
  CHECK((*changed)["text"].get<std::string>().find("(UTC+09:00)") != std::string::npos);
  CHECK((*changed)["text"].get<std::string>().find("Национальная библиотека, Якутск") !=
        std::string::npos);
  CHECK((*changed)["attachments"][0]["content"].get<std::string>().find(
            "LOCATION:Национальная библиотека\\, Якутск") != std::string::npos);
  CHECK((*waitlisted)["attachments"][0]["content"].get<std::string>().find(
            "LOCATION:Дом дружбы народов\\, Якутск") != std::string::npos);
  // Names are escaped in the HTML part (none here needs it) and never an address in a log.
  CHECK(service.Stderr().find("@example.ru") == std::string::npos);
  CHECK(Eventually([&] {
    auto metrics = admin->Get("/metrics");
    return metrics &&
           metrics->body.find(
               "events_outbox_deliveries_total{channel=\"email\",outcome=\"delivered\"} 6") !=
               std::string::npos &&
           metrics->body.find(
               "events_outbox_attempts_total{channel=\"email\",outcome=\"http_error\"} 1") !=
               std::string::npos;
  }));
}

TEST_CASE("E-mail: off unless an SMTP server is configured", "[events][mail]") {
  civic::test::Service service(civic::test::EventsApiBinary());
  auto admin = service.Client();
  const int64_t city =
      Create(*admin, "/v1/cities", {{"name", "Якутск"}, {"time_zone", "Asia/Yakutsk"}})["id"];
  const int64_t event = Create(*admin, "/v1/events",
                               {{"kind", "school"},
                                {"title", "Школа ТОС"},
                                {"city_id", city},
                                {"format", "offline"},
                                {"starts_at", FromNow(72h)},
                                {"ends_at", FromNow(74h)},
                                {"status", "published"}})["id"];
  const int64_t person =
      Create(*admin, "/v1/people", {{"name", "Айаал Сивцев"}, {"email", "aiaal@example.ru"}})["id"];
  Create(*admin, Path("/v1/events", event, "/registrations"), {{"person_id", person}});
  auto metrics = admin->Get("/metrics");
  REQUIRE(metrics);
  CHECK(metrics->body.find("events_outbox_pending{channel=\"email\"} 0") != std::string::npos);
  // A server without a From address is a configuration error at start.
  civic::test::ServiceOptions bad;
  bad.args = {"--smtp-url", "smtp://127.0.0.1:25"};
  bad.expect_listening = false;
  civic::test::Service refused(civic::test::EventsApiBinary(), bad);
  CHECK(refused.WaitExit() != 0);
  CHECK(refused.Stderr().find("--smtp-from") != std::string::npos);
}
