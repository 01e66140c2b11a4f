// civic-bench-events-load: fills a running events API through its public API with the
// benchmark's data set — cities of the seeds, organisations, people and events — using several
// keep-alive connections. Deterministic: the same arguments give the same data.
//
//   civic-bench-events-load --url http://127.0.0.1:8080 --people 100000 --events 10000
#include <httplib.h>

#include <signal.h>
#include <cstdlib>

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

namespace {

using nlohmann::json;

struct CityInfo {
  const char* name;
  const char* region;
  const char* zone;
};

// Atom cities of seed 001 and the host cities of seeds 000, 002, 003, 004.
const std::vector<CityInfo>& Cities() {
  static const std::vector<CityInfo> kCities = {
      {"Саров", "Нижегородская область", "Europe/Moscow"},
      {"Снежинск", "Челябинская область", "Asia/Yekaterinburg"},
      {"Озёрск", "Челябинская область", "Asia/Yekaterinburg"},
      {"Железногорск", "Красноярский край", "Asia/Krasnoyarsk"},
      {"Северск", "Томская область", "Asia/Tomsk"},
      {"Зеленогорск", "Красноярский край", "Asia/Krasnoyarsk"},
      {"Новоуральск", "Свердловская область", "Asia/Yekaterinburg"},
      {"Лесной", "Свердловская область", "Asia/Yekaterinburg"},
      {"Трёхгорный", "Челябинская область", "Asia/Yekaterinburg"},
      {"Заречный", "Пензенская область", "Europe/Moscow"},
      {"Обнинск", "Калужская область", "Europe/Moscow"},
      {"Димитровград", "Ульяновская область", "Europe/Ulyanovsk"},
      {"Курчатов", "Курская область", "Europe/Moscow"},
      {"Нововоронеж", "Воронежская область", "Europe/Moscow"},
      {"Балаково", "Саратовская область", "Europe/Saratov"},
      {"Волгодонск", "Ростовская область", "Europe/Moscow"},
      {"Десногорск", "Смоленская область", "Europe/Moscow"},
      {"Удомля", "Тверская область", "Europe/Moscow"},
      {"Сосновый Бор", "Ленинградская область", "Europe/Moscow"},
      {"Полярные Зори", "Мурманская область", "Europe/Moscow"},
      {"Билибино", "Чукотский автономный округ", "Asia/Anadyr"},
      {"Певек", "Чукотский автономный округ", "Asia/Anadyr"},
      {"Ангарск", "Иркутская область", "Asia/Irkutsk"},
      {"Глазов", "Удмуртская Республика", "Europe/Samara"},
      {"Краснокаменск", "Забайкальский край", "Asia/Chita"},
      {"Электросталь", "Московская область", "Europe/Moscow"},
      {"Подольск", "Московская область", "Europe/Moscow"},
      {"Новосибирск", "Новосибирская область", "Asia/Novosibirsk"},
      {"Ханты-Мансийск", "Ханты-Мансийский автономный округ", "Asia/Yekaterinburg"},
      {"Уфа", "Республика Башкортостан", "Asia/Yekaterinburg"},
      {"Новокузнецк", "Кемеровская область", "Asia/Novokuznetsk"},
      {"Якутск", "Республика Саха (Якутия)", "Asia/Yakutsk"},
  };
  return kCities;
}

const char* kFirstNames[] = {"Анна",  "Иван",    "Мария",   "Пётр",    "Елена", "Сергей",
                             "Ольга", "Дмитрий", "Наталья", "Алексей", "Ирина", "Михаил"};
const char* kLastNames[] = {"Тестова", "Примеров", "Образцова", "Демидов",  "Пробная",
                            "Макетов", "Условная", "Вымыслов",  "Черновая", "Шаблонов"};
const char* kSectors[] = {"government", "ngo", "business", "volunteer", "education", "media"};
const char* kEventKinds[] = {"forum",  "seminar",      "conference", "rally",  "school",
                             "module", "case_session", "ceremony",   "webinar"};

std::unique_ptr<httplib::Client> MakeClient(const std::string& url) {
  auto client = std::make_unique<httplib::Client>(url);
  // An admin key of the events API (the server's CIVIC_EVENTS_ADMIN_KEY).
  if (const char* key = std::getenv("CIVIC_BENCH_KEY"); key != nullptr) {
    client->set_bearer_token_auth(key);
  }
  client->set_keep_alive(true);
  client->set_tcp_nodelay(true);
  client->set_connection_timeout(5, 0);
  client->set_read_timeout(30, 0);
  return client;
}

// POSTs `body`; retries a few times on connection errors and 503; returns the id.
int64_t Post(httplib::Client& client, const std::string& path, const json& body) {
  const httplib::Headers headers = {{"Connection", "keep-alive"}};
  for (int attempt = 0; attempt < 5; ++attempt) {
    auto result = client.Post(path.c_str(), headers, body.dump(), "application/json");
    if (result && result->status == 201) {
      return json::parse(result->body)["id"].get<int64_t>();
    }
    if (result && result->status != 503) {
      throw std::runtime_error("POST " + path + " -> " + std::to_string(result->status) + ": " +
                               result->body);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100 * (attempt + 1)));
  }
  throw std::runtime_error("POST " + path + " failed repeatedly");
}

// Runs make(i) for i in [0, count) on `threads` connections; returns the ids in order.
template <class Make>
std::vector<int64_t> Parallel(const std::string& url, const std::string& path, int count,
                              int threads, Make make) {
  std::vector<int64_t> ids(static_cast<size_t>(count));
  std::atomic<int> next{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&] {
      auto client = MakeClient(url);
      for (int i = next++; i < count; i = next++) {
        ids[static_cast<size_t>(i)] = Post(*client, path, make(i));
      }
    });
  }
  for (auto& worker : workers) {
    worker.join();
  }
  return ids;
}

}  // namespace

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  std::string url = "http://127.0.0.1:8080";
  int people = 100'000;
  int events = 10'000;
  int organizations = 600;
  int threads = 8;
  CLI::App app{"Loads the events API benchmark data set through the API"};
  app.add_option("--url", url, "Events API base URL")->capture_default_str();
  app.add_option("--people", people, "People to create")->capture_default_str();
  app.add_option("--events", events, "Events to create")->capture_default_str();
  app.add_option("--organizations", organizations, "Organisations")->capture_default_str();
  app.add_option("--threads", threads, "Concurrent connections")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  const auto start = std::chrono::steady_clock::now();
  const auto& cities = Cities();
  const auto city_ids = Parallel(url, "/v1/cities", static_cast<int>(cities.size()), 1, [&](int i) {
    return json{{"name", cities[i].name},
                {"region", cities[i].region},
                {"time_zone", cities[i].zone},
                {"tags", i < 27 ? json::array({"atom-city"}) : json::array()}};
  });
  const auto org_ids = Parallel(url, "/v1/organizations", organizations, threads, [&](int i) {
    return json{{"name", std::string("Организация № ") + std::to_string(i + 1)},
                {"sector", kSectors[i % 6]},
                {"city_id", city_ids[static_cast<size_t>(i) % city_ids.size()]}};
  });
  const auto program_ids = Parallel(url, "/v1/programs", 10, 1, [&](int i) {
    return json{{"title", i == 0 ? std::string("Добрые города")
                                 : "Программа развития городов № " + std::to_string(i)},
                {"kind", "education"},
                {"starts_on", "2026-01-15"},
                {"organizer_ids", {org_ids[static_cast<size_t>(i)]}}};
  });
  Parallel(url, "/v1/people", people, threads, [&](int i) {
    return json{{"name", std::string(kFirstNames[i % 12]) + " " + kLastNames[(i / 12) % 10] + " " +
                             std::to_string(i)},
                {"city_id", city_ids[static_cast<size_t>(i) % city_ids.size()]},
                {"organization_id", org_ids[static_cast<size_t>(i) % org_ids.size()]},
                {"position", "Участник программы"}};
  });
  Parallel(url, "/v1/events", events, threads, [&](int i) {
    // Spread over 2026 at local 10:00, lasting 1..3 days.
    char day[32];
    std::snprintf(day, sizeof(day), "2026-%02d-%02dT10:00:00+03:00", 1 + i % 12, 1 + i % 28);
    char end[32];
    std::snprintf(end, sizeof(end), "2026-%02d-%02dT18:00:00+03:00", 1 + i % 12,
                  1 + i % 28 + i % 3 >= 29 ? 28 : 1 + i % 28 + i % 3);
    return json{{"kind", kEventKinds[i % 9]},
                {"title", "Событие № " + std::to_string(i + 1)},
                {"city_id", city_ids[static_cast<size_t>(i) % city_ids.size()]},
                {"program_id", program_ids[static_cast<size_t>(i) % program_ids.size()]},
                {"venue", "Дом культуры"},
                {"format", i % 5 == 0 ? "online" : "offline"},
                {"starts_at", day},
                {"ends_at", end},
                {"capacity", 100 + i % 400},
                {"status", i % 10 == 0 ? "draft" : "published"}};
  });
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << "loaded " << cities.size() << " cities, " << organizations << " organisations, "
            << people << " people, " << events << " events in " << seconds << " s" << std::endl;
  std::cout << "first city id " << city_ids.front() << ", first program id " << program_ids.front()
            << std::endl;
  return 0;
}
