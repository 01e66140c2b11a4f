#include "resources/laureates.hpp"

#include "resources/json_util.hpp"

namespace civic::events::resources {

namespace {

constexpr const char* kColumns =
    "id, award_id, nomination_id, nominee_id, votes, rank, created_at, updated_at";

}  // namespace

nlohmann::json Laureates::ToJson(const Laureate& laureate) {
  return {{"id", laureate.id},
          {"award_id", laureate.award_id},
          {"nomination_id", laureate.nomination_id},
          {"nominee_id", laureate.nominee_id},
          {"votes", laureate.votes},
          {"rank", laureate.rank},
          {"created_at", FormatUtc(laureate.created_at)},
          {"updated_at", FormatUtc(laureate.updated_at)}};
}

Laureate Laureates::FromRow(sqlite::Statement& row) {
  Laureate laureate;
  laureate.id = row.ColumnInt64(0);
  laureate.award_id = row.ColumnInt64(1);
  laureate.nomination_id = row.ColumnInt64(2);
  laureate.nominee_id = row.ColumnInt64(3);
  laureate.votes = row.ColumnInt64(4);
  laureate.rank = row.ColumnInt64(5);
  laureate.created_at = FromMillis(row.ColumnInt64(6));
  laureate.updated_at = FromMillis(row.ColumnInt64(7));
  return laureate;
}

void Laureates::InsertAll(sqlite::Database& db, std::vector<Laureate>& laureates) {
  auto insert = db.Prepare(
      "INSERT INTO laureates(award_id, nomination_id, nominee_id, votes, rank, created_at, "
      "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)");
  for (auto& laureate : laureates) {
    insert.Bind(1, laureate.award_id)
        .Bind(2, laureate.nomination_id)
        .Bind(3, laureate.nominee_id)
        .Bind(4, laureate.votes)
        .Bind(5, laureate.rank)
        .Bind(6, Millis(laureate.created_at))
        .Bind(7, Millis(laureate.updated_at));
    insert.Run();
    laureate.id = db.LastInsertRowid();
    insert.Reset();
  }
}

const rest::ListSpec& Laureates::List() {
  using rest::Filter;
  static const rest::ListSpec kSpec = {
      .table = "laureates",
      .columns = kColumns,
      .filters =
          {
              Filter{"award_id", "award_id = ?", Filter::Kind::kId, {}},
              Filter{"nomination_id", "nomination_id = ?", Filter::Kind::kId, {}},
          },
      .sorts = {{"id", "id", false}, {"votes", "votes", false}},
      .access = {.program_sql =
                     "(SELECT program_id FROM awards WHERE awards.id = laureates.award_id)",
                 .public_sql =
                     "(SELECT status FROM awards WHERE awards.id = laureates.award_id) <> 'draft'",
                 .expert_sql = "",
                 .frontend_reads = false,
                 .frontend_own_sql = ""},
  };
  return kSpec;
}

}  // namespace civic::events::resources
