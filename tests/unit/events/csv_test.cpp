// The CSV cell writer of the exports (services/events-api/src/exports/csv.hpp): RFC 4180 quoting,
// formula neutralising, and the Content-Disposition of a download with a Cyrillic name.
#include "exports/csv.hpp"

#include <catch2/catch.hpp>
#include <string>

using civic::events::exports::AppendTextField;
using civic::events::exports::ContentDisposition;
using civic::events::exports::CsvWriter;
using civic::events::exports::FileNameFromTitle;
using civic::events::exports::NeedsNeutralising;
using civic::events::exports::PercentEncodeRfc8187;

namespace {

std::string Field(const std::string& value) {
  std::string out;
  AppendTextField(out, value);
  return out;
}

}  // namespace

TEST_CASE("CSV: plain text and Cyrillic are written as they are", "[events][exports][csv]") {
  CHECK(Field("Ирина Лебедева") == "Ирина Лебедева");
  CHECK(Field("") == "");
  CHECK(Field("a b") == "a b");
  CHECK(Field("O'Brien") == "O'Brien");
}

TEST_CASE("CSV: fields with a comma, a quote, CR or LF are quoted, quotes doubled",
          "[events][exports][csv]") {
  CHECK(Field("Лебедева, Ирина") == "\"Лебедева, Ирина\"");
  CHECK(Field("НКО \"Добро\"") == "\"НКО \"\"Добро\"\"\"");
  CHECK(Field("строка\nвторая") == "\"строка\nвторая\"");
  CHECK(Field("a\r\nb") == "\"a\r\nb\"");
  CHECK(Field("\"") == "\"\"\"\"");
}

TEST_CASE("CSV: fields with a semicolon or a tab are quoted too, so no part starts a cell",
          "[events][exports][csv][injection]") {
  // Russian-locale Excel splits an unquoted line at ';': the part after it would be a cell of
  // its own, starting with '=', that the guard on the first character never saw.
  CHECK(Field("Иван;=cmd|' /C calc'!A0") == "\"Иван;=cmd|' /C calc'!A0\"");
  CHECK(Field("a;b") == "\"a;b\"");
  CHECK(Field("a\tb") == "\"a\tb\"");
  CHECK(Field("\t=1") == "\"'\t=1\"");
  CHECK(Field("=1;2") == "\"'=1;2\"");
}

TEST_CASE("CSV: text a spreadsheet would take for a formula is prefixed with a single quote",
          "[events][exports][csv][injection]") {
  for (const char* formula : {"=1+2", "+7 912 345-67-89", "-2+3", "@SUM(A1)", "\tx", "\rx"}) {
    INFO(formula);
    CHECK(NeedsNeutralising(formula));
  }
  CHECK(Field("=HYPERLINK(\"http://evil.example\",\"click\")") ==
        "\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"click\"\")\"");
  // A phone stays readable: the quote only stops the spreadsheet from computing it.
  CHECK(Field("+7 912 345-67-89") == "'+7 912 345-67-89");
  CHECK(Field("-") == "'-");
  CHECK(Field("@ivan") == "'@ivan");
  CHECK(Field("\tTab") == "\"'\tTab\"");
  // CR first: quoted (it holds a CR) and neutralised.
  CHECK(Field("\r=1") == "\"'\r=1\"");
  // Only the first character matters.
  CHECK_FALSE(NeedsNeutralising("a=1"));
  CHECK_FALSE(NeedsNeutralising("7 912"));
  CHECK_FALSE(NeedsNeutralising(""));
  CHECK(Field("1=1") == "1=1");
}

TEST_CASE("CSV: rows have fields separated by commas and end in CRLF, numbers unquoted",
          "[events][exports][csv]") {
  std::string out;
  CsvWriter row(out);
  row.Number(42).Text("Саров").Empty().Number(-5).Text("a,b");
  row.EndRow();
  row.Text("x");
  row.EndRow();
  CHECK(out == "42,Саров,,-5,\"a,b\"\r\nx\r\n");
}

TEST_CASE("CSV: RFC 8187 percent-encoding keeps attr-chars and encodes the rest",
          "[events][exports][csv][content-disposition]") {
  CHECK(PercentEncodeRfc8187("abc-._~!#$&+^`|") == "abc-._~!#$&+^`|");
  CHECK(PercentEncodeRfc8187("a b") == "a%20b");
  CHECK(PercentEncodeRfc8187("Я") == "%D0%AF");
  CHECK(PercentEncodeRfc8187("'*%;\"") == "%27%2A%25%3B%22");
}

TEST_CASE("CSV: a file name from a title loses what file systems refuse and keeps Cyrillic",
          "[events][exports][csv][content-disposition]") {
  CHECK(FileNameFromTitle("Якутск 4.0.0 Старт") == "Якутск 4.0.0 Старт");
  CHECK(FileNameFromTitle("  a/b\\c:d*e?f\"g<h>i|j  ") == "a_b_c_d_e_f_g_h_i_j");
  CHECK(FileNameFromTitle("строка\nвторая\t\tтретья") == "строка вторая третья");
  // Cut on whole code points.
  CHECK(FileNameFromTitle("Ёлкина", 3) == "Ёлк");
  // Bytes that are not UTF-8 become '_'.
  CHECK(FileNameFromTitle(std::string("a\xFF") + "b") == "a_b");
}

TEST_CASE("CSV: Content-Disposition offers an ASCII filename and the UTF-8 filename*",
          "[events][exports][csv][content-disposition]") {
  CHECK(ContentDisposition("event-7-registrations.csv", "Слёт — регистрации.csv") ==
        "attachment; filename=\"event-7-registrations.csv\"; "
        "filename*=UTF-8''%D0%A1%D0%BB%D1%91%D1%82%20%E2%80%94%20"
        "%D1%80%D0%B5%D0%B3%D0%B8%D1%81%D1%82%D1%80%D0%B0%D1%86%D0%B8%D0%B8.csv");
  // A title with a slash or a quote cannot name a directory or end the parameter.
  const std::string value = ContentDisposition("a.csv", "a/\"b\".csv");
  CHECK(value == "attachment; filename=\"a.csv\"; filename*=UTF-8''a__b_.csv");
  // A long title is cut before the extension, which stays.
  const std::string long_title(500, 'x');
  const std::string cut = ContentDisposition("a.csv", long_title + ".csv");
  CHECK(cut ==
        "attachment; filename=\"a.csv\"; filename*=UTF-8''" + std::string(120, 'x') + ".csv");
}
