// civic-seed: loads the five seed stories into a running events API through its public API:
// the "Добрые города" program with its 14 city teams (four sectors each), their social projects
// with two experts' reviews, and its first module in Ханты-Мансийск, the atom-city leaders' seminar
// and the "Новые Созидатели" award with nominees from its 30 cities, the Новокузнецк rally, the Уфа
// conference with its plenary and four sectional platforms, and the Якутск school of ТОС with its
// case session. Places, programs and numbers are the seeds'; people are invented.
//
// Every POST carries an Idempotency-Key derived from what it creates, so running the tool again
// within the key lifetime (48 h) creates nothing twice.
//
//   CIVIC_SEED_KEY=<admin key> civic-seed --url http://127.0.0.1:8080
#include <httplib.h>
#include <signal.h>

#include <CLI/CLI.hpp>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include <vector>
#include "civic/runtime/secret.hpp"

namespace {

using nlohmann::json;

// "seed-" + 16 hex digits of the FNV-1a hash of `key`.
std::string IdempotencyKey(const std::string& key) {
  uint64_t hash = 14695981039346656037ULL;
  for (const char c : key) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 1099511628211ULL;
  }
  char hex[17];
  std::snprintf(hex, sizeof(hex), "%016llx", static_cast<unsigned long long>(hash));
  return std::string("seed-") + hex;
}

class Api {
 public:
  Api(const std::string& url, const std::string& key) : client_(url) {
    client_.set_bearer_token_auth(key);
    client_.set_keep_alive(true);
    client_.set_tcp_nodelay(true);
    client_.set_connection_timeout(5, 0);
    client_.set_read_timeout(30, 0);
  }

  // POSTs `body` with an Idempotency-Key derived from `key` (which may hold Cyrillic: the
  // header takes visible ASCII, so the key is hashed); returns the created (or replayed)
  // resource.
  json Create(const std::string& path, const std::string& key, const json& body) {
    const httplib::Headers headers = {{"Connection", "keep-alive"},
                                      {"Idempotency-Key", IdempotencyKey(key)}};
    auto result = client_.Post(path.c_str(), headers, body.dump(), "application/json");
    if (!result) {
      throw std::runtime_error("POST " + path + ": " + httplib::to_string(result.error()));
    }
    if (result->status != 201) {
      throw std::runtime_error("POST " + path + " (" + key + ") answered " +
                               std::to_string(result->status) + ": " + result->body);
    }
    ++created_;
    return json::parse(result->body);
  }
  int created() const { return created_; }

 private:
  httplib::Client client_;
  int created_ = 0;
};

struct CitySeed {
  const char* name;
  const char* region;
  const char* zone;
  bool atom;
};

// The 30 atom cities of the award (seed 001), then the other seeds' host cities.
const std::vector<CitySeed> kCities = {
    {"Саров", "Нижегородская область", "Europe/Moscow", true},
    {"Снежинск", "Челябинская область", "Asia/Yekaterinburg", true},
    {"Озёрск", "Челябинская область", "Asia/Yekaterinburg", true},
    {"Трёхгорный", "Челябинская область", "Asia/Yekaterinburg", true},
    {"Железногорск", "Красноярский край", "Asia/Krasnoyarsk", true},
    {"Зеленогорск", "Красноярский край", "Asia/Krasnoyarsk", true},
    {"Северск", "Томская область", "Asia/Tomsk", true},
    {"Новоуральск", "Свердловская область", "Asia/Yekaterinburg", true},
    {"Лесной", "Свердловская область", "Asia/Yekaterinburg", true},
    {"Заречный", "Пензенская область", "Europe/Moscow", true},
    {"Полярные Зори", "Мурманская область", "Europe/Moscow", true},
    {"Обнинск", "Калужская область", "Europe/Moscow", true},
    {"Димитровград", "Ульяновская область", "Europe/Ulyanovsk", true},
    {"Курчатов", "Курская область", "Europe/Moscow", true},
    {"Нововоронеж", "Воронежская область", "Europe/Moscow", true},
    {"Балаково", "Саратовская область", "Europe/Saratov", true},
    {"Волгодонск", "Ростовская область", "Europe/Moscow", true},
    {"Десногорск", "Смоленская область", "Europe/Moscow", true},
    {"Удомля", "Тверская область", "Europe/Moscow", true},
    {"Сосновый Бор", "Ленинградская область", "Europe/Moscow", true},
    {"Билибино", "Чукотский автономный округ", "Asia/Anadyr", true},
    {"Певек", "Чукотский автономный округ", "Asia/Anadyr", true},
    {"Ангарск", "Иркутская область", "Asia/Irkutsk", true},
    {"Глазов", "Удмуртская Республика", "Europe/Samara", true},
    {"Краснокаменск", "Забайкальский край", "Asia/Chita", true},
    {"Электросталь", "Московская область", "Europe/Moscow", true},
    {"Подольск", "Московская область", "Europe/Moscow", true},
    {"Новосибирск", "Новосибирская область", "Asia/Novosibirsk", true},
    {"Лермонтов", "Ставропольский край", "Europe/Moscow", true},
    {"Усолье-Сибирское", "Иркутская область", "Asia/Irkutsk", true},
    {"Ханты-Мансийск", "Ханты-Мансийский автономный округ — Югра", "Asia/Yekaterinburg", false},
    {"Москва", "Москва", "Europe/Moscow", false},
    {"Новокузнецк", "Кемеровская область — Кузбасс", "Asia/Novokuznetsk", false},
    {"Уфа", "Республика Башкортостан", "Asia/Yekaterinburg", false},
    {"Якутск", "Республика Саха (Якутия)", "Asia/Yakutsk", false},
};

// The 14 team cities of "Добрые города" (seed 000 names five of them).
const std::vector<std::string> kTeamCities = {
    "Зеленогорск", "Снежинск",   "Полярные Зори", "Новоуральск", "Саров",
    "Озёрск",      "Северск",    "Железногорск",  "Заречный",    "Лесной",
    "Трёхгорный",  "Десногорск", "Удомля",        "Сосновый Бор"};

const std::vector<std::string> kFirst = {"Анна",   "Игорь",  "Мария",    "Павел", "Елена",
                                         "Степан", "Ольга",  "Денис",    "Вера",  "Роман",
                                         "Ирина",  "Михаил", "Светлана", "Артём"};
const std::vector<std::string> kLast = {"Тестова",  "Примеров", "Образцова", "Демидов",
                                        "Пробная",  "Макетов",  "Условная",  "Вымыслов",
                                        "Черновая", "Шаблонов", "Эскизова",  "Набросков"};

// An invented name; even i are women, odd i men (first and last names agree).
std::string Person(size_t i) {
  const size_t parity = i % 2;
  return kFirst[i % kFirst.size()] + " " + kLast[2 * ((i / kFirst.size()) % 6) + parity];
}

}  // namespace

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  std::string url = "http://127.0.0.1:8080";
  CLI::App app{"Loads the seed programs, events, teams and award into a running events API"};
  app.add_option("--url", url, "Events API base URL")->capture_default_str();
  std::string key_file;
  app.add_option("--key-file", key_file,
                 "File holding an admin API key of the events API (else env CIVIC_SEED_KEY)")
      ->envname("CIVIC_SEED_KEY_FILE");
  CLI11_PARSE(app, argc, argv);

  try {
    const std::string admin_key =
        civic::runtime::ReadSecret({"--key-file", "CIVIC_SEED_KEY_FILE", "CIVIC_SEED_KEY", 1, true},
                                   key_file, civic::runtime::ProcessEnv);
    Api api(url, admin_key);
    std::map<std::string, int64_t> city;
    for (const auto& c : kCities) {
      json body = {{"name", c.name}, {"region", c.region}, {"time_zone", c.zone}};
      if (c.atom) {
        body["tags"] = {"atom-city"};
      }
      city[c.name] = api.Create("/v1/cities", std::string("city-") + c.name, body)["id"];
    }
    auto org = [&](const std::string& key, const std::string& name, const std::string& sector,
                   const std::string& city_name) {
      json body = {{"name", name}, {"sector", sector}};
      if (!city_name.empty()) {
        body["city_id"] = city.at(city_name);
      }
      return api.Create("/v1/organizations", "org-" + key, body)["id"].get<int64_t>();
    };
    const int64_t rosatom = org("rosatom", "Госкорпорация «Росатом»", "government", "Москва");
    const int64_t dobro = org("dobro", "Экосистема «Добро.рф»", "ngo", "Москва");
    const int64_t dobrino = org("dobrino", "Академия «Добрино»", "education", "Ханты-Мансийск");
    const int64_t energy = org("energy", "АНО «Энергия развития»", "ngo", "Москва");
    const int64_t atom_cities =
        org("atom-cities", "Союз организаций атомной отрасли «Атомные города»", "ngo", "Москва");
    const int64_t rusal = org("rusal", "Компания РУСАЛ", "business", "Москва");
    const int64_t constructor = org("constructor", "Проект «Конструктор сообществ»", "ngo", "Уфа");
    const int64_t yakutsk_admin =
        org("yakutsk-admin", "Окружная администрация города Якутска", "government", "Якутск");
    const int64_t tos = org("tos", "Общенациональная ассоциация ТОС", "ngo", "Москва");

    // ---- Seed 000: "Добрые города", 14 city teams of four sectors, module 1 -----------------
    const int64_t good_cities =
        api.Create("/v1/programs", "program-good-cities",
                   {{"title", "Добрые города"},
                    {"kind", "education"},
                    {"description",
                     "Образовательная программа для команд «атомных» городов: программа развития "
                     "социальной активности и устойчивые команды для её реализации."},
                    {"starts_on", "2026-09-15"},
                    {"ends_on", "2026-12-20"},
                    {"organizer_ids", {rosatom, dobro}},
                    {"partner_ids", {dobrino, energy}},
                    {"team_rules",
                     {{"required_sectors", {"government", "ngo", "business", "volunteer"}},
                      {"min_size", 4},
                      {"max_size", 12}}},
                    {"review_criteria",
                     {{{"name", "Социальный эффект"}, {"weight", 40}},
                      {{"name", "Вовлечение жителей"}, {"weight", 30}},
                      {{"name", "Реализуемость"}, {"weight", 30}}}}})["id"];
    const std::vector<std::string> sectors = {"government", "ngo", "business", "volunteer"};
    const std::vector<std::string> positions = {"Заместитель главы администрации",
                                                "Руководитель НКО", "Предприниматель",
                                                "Координатор волонтёров"};
    size_t person_index = 0;
    const std::vector<std::string> themes = {
        "Двор для всех",    "Школа соседей",     "Зелёный берег",   "Тропа здоровья",
        "Библиотека вещей", "Волонтёрский штаб", "Общественный сад"};
    std::vector<int64_t> projects;
    for (const auto& team_city : kTeamCities) {
      const int64_t team = api.Create("/v1/teams", "team-" + team_city,
                                      {{"name", "Команда города " + team_city},
                                       {"city_id", city.at(team_city)},
                                       {"program_id", good_cities},
                                       {"status", "active"}})["id"];
      // Each team's social project, submitted for expert review.
      projects.push_back(
          api.Create("/v1/projects", "project-" + team_city,
                     {{"team_id", team},
                      {"title", themes[projects.size() % themes.size()] + ": " + team_city},
                      {"summary", "Социальный проект команды города " + team_city +
                                      ", разработанный в программе «Добрые города»."},
                      {"status", "submitted"}})["id"]);
      for (size_t s = 0; s < sectors.size(); ++s) {
        const std::string name = Person(person_index++);
        const int64_t person = api.Create(
            "/v1/people", "person-" + team_city + "-" + sectors[s],
            {{"name", name}, {"city_id", city.at(team_city)}, {"position", positions[s]}})["id"];
        api.Create("/v1/team-members", "member-" + team_city + "-" + sectors[s],
                   {{"team_id", team},
                    {"person_id", person},
                    {"sector", sectors[s]},
                    {"role", s == 0 ? "lead" : "member"}});
      }
    }
    // Two experts of the program review every project against its criteria.
    for (int e = 0; e < 2; ++e) {
      const int64_t expert = api.Create("/v1/people", "person-expert-" + std::to_string(e),
                                        {{"name", Person(100 + e)},
                                         {"city_id", city.at("Москва")},
                                         {"position", "Эксперт программы"},
                                         {"organization_id", dobro}})["id"];
      for (size_t i = 0; i < projects.size(); ++i) {
        const int k = static_cast<int>(i) + 3 * e;
        api.Create("/v1/reviews", "review-" + std::to_string(e) + "-" + std::to_string(i),
                   {{"project_id", projects[i]},
                    {"expert_id", expert},
                    {"scores",
                     {{"Социальный эффект", 5 + (k * 3) % 6},
                      {"Вовлечение жителей", 4 + (k * 5) % 7},
                      {"Реализуемость", 6 + k % 5}}}});
      }
    }
    const int64_t module1 = api.Create("/v1/events", "event-module-1",
                                       {{"kind", "module"},
                                        {"title", "Первый модуль программы «Добрые города»"},
                                        {"program_id", good_cities},
                                        {"city_id", city.at("Ханты-Мансийск")},
                                        {"venue", "Академия «Добрино»"},
                                        {"format", "offline"},
                                        {"starts_at", "2026-09-15T10:00:00+05:00"},
                                        {"ends_at", "2026-09-18T18:00:00+05:00"},
                                        {"capacity", 120},
                                        {"status", "published"},
                                        {"organizer_ids", {rosatom, dobro}},
                                        {"partner_ids", {dobrino}}})["id"];
    const int64_t opener = api.Create("/v1/people", "person-opener",
                                      {{"name", "Ольга Вымыслова"},
                                       {"organization_id", energy},
                                       {"position", "Генеральный директор"}})["id"];
    api.Create("/v1/sessions", "session-module-1-plenary",
               {{"event_id", module1},
                {"kind", "plenary"},
                {"title", "Механизмы взаимодействия государства, НКО, бизнеса и жителей"},
                {"starts_at", "2026-09-15T11:00:00+05:00"},
                {"ends_at", "2026-09-15T13:00:00+05:00"},
                {"room", "Большой зал"},
                {"speaker_ids", {opener}}});
    api.Create("/v1/events", "event-my-vmeste",
               {{"kind", "forum"},
                {"title", "Международный форум гражданского участия «Мы вместе»"},
                {"program_id", good_cities},
                {"city_id", city.at("Москва")},
                {"format", "hybrid"},
                {"starts_at", "2026-12-03T10:00:00+03:00"},
                {"ends_at", "2026-12-05T19:00:00+03:00"},
                {"status", "published"},
                {"organizer_ids", {dobro}}});

    // ---- Seed 001: seminar of atom-city leaders; the "Новые Созидатели" award ----------------
    api.Create("/v1/events", "event-leaders-seminar",
               {{"kind", "seminar"},
                {"title", "Семинар-совещание руководства «атомных» городов"},
                {"city_id", city.at("Москва")},
                {"format", "offline"},
                {"starts_at", "2026-02-10T10:00:00+03:00"},
                {"ends_at", "2026-02-12T18:00:00+03:00"},
                {"status", "published"},
                {"organizer_ids", {rosatom}}});
    const int64_t award_program =
        api.Create("/v1/programs", "program-new-creators",
                   {{"title", "Премия народного признания «Новые Созидатели»"},
                    {"kind", "award"},
                    {"starts_on", "2026-10-01"},
                    {"organizer_ids", {atom_cities}},
                    {"partner_ids", {rosatom}}})["id"];
    const int64_t award =
        api.Create("/v1/awards", "award-new-creators",
                   {{"title", "Новые Созидатели"},
                    {"edition_year", 2026},
                    {"program_id", award_program},
                    {"description",
                     "Народное голосование жителей 30 «атомных» городов за земляков — лучших "
                     "представителей разных сфер деятельности."},
                    {"voting_opens_at", "2026-11-01T00:00:00+03:00"},
                    {"voting_closes_at", "2026-12-15T00:00:00+03:00"},
                    {"max_choices_per_nomination", 1},
                    {"results_visibility", "live"},
                    {"status", "published"}})["id"];
    const std::vector<std::string> nominations = {"Педагоги",
                                                  "Медики",
                                                  "Культура и искусство",
                                                  "Спорт",
                                                  "Рабочие профессии",
                                                  "Предприниматели",
                                                  "Работники и ветераны атомной отрасли",
                                                  "Общественники и волонтёры",
                                                  "Молодёжные активисты"};
    std::vector<int64_t> nomination_ids;
    for (size_t n = 0; n < nominations.size(); ++n) {
      nomination_ids.push_back(api.Create("/v1/nominations", "nomination-" + std::to_string(n),
                                          {{"award_id", award}, {"title", nominations[n]}})["id"]);
    }
    int nominees = 0;
    for (size_t c = 0; c < 30; ++c) {
      for (size_t k = 0; k < 3; ++k) {
        const size_t n = (c * 3 + k) % nomination_ids.size();
        const std::string city_name = kCities[c].name;
        json body = {{"nomination_id", nomination_ids[n]}, {"city_id", city.at(city_name)}};
        if (k == 2) {
          body["kind"] = "project";
          body["project_title"] = "Городской проект «Двор, где живут соседи» — " + city_name;
          body["name"] = "Инициативная группа, " + city_name;
        } else {
          body["kind"] = "person";
          body["name"] = Person(person_index++);
          body["person_id"] = api.Create(
              "/v1/people", "nominee-person-" + std::to_string(c) + "-" + std::to_string(k),
              {{"name", body["name"]}, {"city_id", city.at(city_name)}})["id"];
        }
        api.Create("/v1/nominees", "nominee-" + std::to_string(c) + "-" + std::to_string(k), body);
        ++nominees;
      }
    }

    // ---- Seed 002: the Новокузнецк rally, 2 days ------------------------------------------
    const int64_t rally = api.Create(
        "/v1/events", "event-rally",
        {{"kind", "rally"},
         {"title", "Слёт лидеров городских изменений «Люди для города – город для людей»"},
         {"city_id", city.at("Новокузнецк")},
         {"format", "offline"},
         {"starts_at", "2026-09-28T10:00:00+07:00"},
         {"ends_at", "2026-09-29T18:00:00+07:00"},
         {"capacity", 300},
         {"status", "published"},
         {"organizer_ids", {rusal}}})["id"];
    const std::vector<std::pair<std::string, std::string>> rally_sessions = {
        {"talk_show", "Ток-шоу: социальное предпринимательство в малом городе"},
        {"master_class", "Мастер-класс: как найти партнёров для городской инициативы"},
        {"consultation", "Консультации экспертов по социальным проектам"}};
    for (size_t i = 0; i < rally_sessions.size(); ++i) {
      api.Create("/v1/sessions", "session-rally-" + std::to_string(i),
                 {{"event_id", rally},
                  {"kind", rally_sessions[i].first},
                  {"title", rally_sessions[i].second},
                  {"starts_at", "2026-09-28T1" + std::to_string(1 + 2 * i) + ":00:00+07:00"},
                  {"ends_at", "2026-09-28T1" + std::to_string(2 + 2 * i) + ":30:00+07:00"}});
    }

    // ---- Seed 003: the Уфа conference, plenary + 4 sectional platforms ----------------------
    const int64_t ufa =
        api.Create("/v1/events", "event-ufa-conference",
                   {{"kind", "conference"},
                    {"title",
                     "Межрегиональная конференция «Сообщества: перспективы и технологии "
                     "развития»"},
                    {"city_id", city.at("Уфа")},
                    {"format", "offline"},
                    {"starts_at", "2026-12-18T10:00:00+05:00"},
                    {"ends_at", "2026-12-18T18:00:00+05:00"},
                    {"capacity", 120},
                    {"status", "published"},
                    {"organizer_ids", {constructor}}})["id"];
    api.Create("/v1/sessions", "session-ufa-plenary",
               {{"event_id", ufa},
                {"kind", "plenary"},
                {"title", "Пленарное заседание: вовлечённость в сообщество и горизонтальные связи"},
                {"starts_at", "2026-12-18T10:00:00+05:00"},
                {"ends_at", "2026-12-18T12:30:00+05:00"}});
    const std::vector<std::string> platforms = {
        "Социальное партнёрство в создании городских и сельских сообществ",
        "Комьюнити-менеджмент как стратегия коммуникации с населением",
        "Соседские сообщества. Добрососедство",
        "Молодёжные сообщества и инициативное бюджетирование"};
    for (size_t i = 0; i < platforms.size(); ++i) {
      api.Create("/v1/sessions", "session-ufa-section-" + std::to_string(i),
                 {{"event_id", ufa},
                  {"kind", "section"},
                  {"title", platforms[i]},
                  {"room", "Площадка " + std::to_string(i + 1)},
                  {"starts_at", "2026-12-18T14:00:00+05:00"},
                  {"ends_at", "2026-12-18T17:00:00+05:00"}});
    }

    // ---- Seed 004: the Якутск forum and its school of ТОС with a case session ----------------
    api.Create("/v1/events", "event-yakutsk-forum",
               {{"kind", "forum"},
                {"title", "Форум «Якутск 4.0.0 Старт»"},
                {"city_id", city.at("Якутск")},
                {"format", "offline"},
                {"starts_at", "2026-09-08T10:00:00+09:00"},
                {"ends_at", "2026-09-11T18:00:00+09:00"},
                {"status", "published"},
                {"organizer_ids", {yakutsk_admin}}});
    const int64_t school =
        api.Create("/v1/events", "event-tos-school",
                   {{"kind", "school"},
                    {"title", "Школа территориальных общественных самоуправлений"},
                    {"city_id", city.at("Якутск")},
                    {"format", "offline"},
                    {"starts_at", "2026-09-08T10:00:00+09:00"},
                    {"ends_at", "2026-09-08T17:00:00+09:00"},
                    {"registration_opens_at", "2026-08-20T09:00:00+09:00"},
                    {"registration_closes_at", "2026-09-07T18:00:00+09:00"},
                    {"status", "published"},
                    {"organizer_ids", {yakutsk_admin}},
                    {"partner_ids", {tos}}})["id"];
    const int64_t expert = api.Create("/v1/people", "person-tos-expert",
                                      {{"name", "Елена Условная"},
                                       {"organization_id", tos},
                                       {"position", "Руководитель специальных программ"}})["id"];
    api.Create("/v1/sessions", "session-tos-case",
               {{"event_id", school},
                {"kind", "case_session"},
                {"title",
                 "Развитие ТОС: «Третье место» как универсальная возможность общественной "
                 "самореализации жителей"},
                {"starts_at", "2026-09-08T10:00:00+09:00"},
                {"ends_at", "2026-09-08T16:00:00+09:00"},
                {"speaker_ids", {expert}}});

    std::cout << "seeded " << kCities.size() << " cities, " << kTeamCities.size()
              << " teams of 4, the award with " << nomination_ids.size() << " nominations and "
              << nominees << " nominees, 7 events with their sessions (" << api.created()
              << " resources)" << std::endl;
  } catch (const std::exception& e) {
    std::cerr << "civic-seed: " << e.what() << std::endl;
    return 1;
  }
  return 0;
}
