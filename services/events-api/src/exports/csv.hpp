#pragma once

// CSV for spreadsheet programs (RFC 4180): UTF-8 with a byte-order mark so that Excel and
// LibreOffice open Cyrillic as UTF-8, CRLF line ends, fields quoted when they hold a comma, a
// semicolon, a quote, a tab, CR or LF (quotes doubled inside), and text cells that a spreadsheet
// would read as a formula neutralised. Pure code: no I/O.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace civic::events::exports {

// The UTF-8 byte-order mark a CSV body starts with.
inline constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";

// The media type of every export (RFC 4180 section 3, with its `header` parameter).
inline constexpr std::string_view kCsvMediaType = "text/csv; charset=utf-8; header=present";

// Whether a spreadsheet could take text `value` for a formula: it begins with '=', '+', '-',
// '@', a tab or a carriage return (OWASP "CSV Injection").
bool NeedsNeutralising(std::string_view value);

// Whether text `value` is written quoted: it holds a comma, a semicolon, a quote, a tab, CR or
// LF. RFC 4180 needs quotes only for the comma, the quote and line breaks; the semicolon (the
// list separator of Russian-locale Excel, which then splits an unquoted cell there) and the tab
// (a separator some spreadsheets guess) are quoted too, so that no part of a cell ever starts
// a cell of its own that the formula guard did not see.
bool NeedsQuoting(std::string_view value);

// Appends `value` as one text field to `out`: prefixed with a single quote when
// NeedsNeutralising (OWASP: the spreadsheet then shows the text, e.g. '+7 912 345-67-89, and
// never runs it), then quoted when NeedsQuoting (quotes doubled).
void AppendTextField(std::string& out, std::string_view value);

// Writes rows of fields into a string the caller owns (and may send and clear between rows).
class CsvWriter {
 public:
  explicit CsvWriter(std::string& out) : out_(out) {}

  // A text field (see AppendTextField).
  CsvWriter& Text(std::string_view value);
  // A number: written as digits, never neutralised (it is not text a person typed).
  CsvWriter& Number(int64_t value);
  // An empty field.
  CsvWriter& Empty();
  // Ends the row with CRLF.
  void EndRow();

 private:
  void Separate();

  std::string& out_;
  bool row_started_ = false;
};

// The value of a Content-Disposition field offering a download (RFC 6266): `attachment`, an
// ASCII `filename` for old clients (`ascii_name`, which must be printable ASCII without '"' or
// '\\') and `filename*=UTF-8''...` with `utf8_name` percent-encoded (RFC 8187), after characters
// a file system refuses (/ \ : * ? " < > | and controls) became '_' and it was cut to at most
// 120 characters (whole code points) before its extension.
std::string ContentDisposition(std::string_view ascii_name, std::string_view utf8_name);

// RFC 8187 percent-encoding of `value`: attr-char kept, every other byte as %XX.
std::string PercentEncodeRfc8187(std::string_view value);

// A name for a file from `title` (e.g. an event's title): the characters a file system refuses
// replaced by '_', runs of white space made one space, trimmed, cut to `max_code_points`.
std::string FileNameFromTitle(std::string_view title, size_t max_code_points = 120);

}  // namespace civic::events::exports
