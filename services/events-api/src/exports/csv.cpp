#include "exports/csv.hpp"

namespace civic::events::exports {

bool NeedsNeutralising(std::string_view value) {
  if (value.empty()) {
    return false;
  }
  switch (value.front()) {
    case '=':
    case '+':
    case '-':
    case '@':
    case '\t':
    case '\r':
      return true;
    default:
      return false;
  }
}

bool NeedsQuoting(std::string_view value) {
  return value.find_first_of(",;\"\t\r\n") != std::string_view::npos;
}

void AppendTextField(std::string& out, std::string_view value) {
  const bool neutralise = NeedsNeutralising(value);
  const bool quote = NeedsQuoting(value);
  if (quote) {
    out += '"';
  }
  if (neutralise) {
    out += '\'';
  }
  for (const char c : value) {
    if (c == '"') {
      out += '"';
    }
    out += c;
  }
  if (quote) {
    out += '"';
  }
}

void CsvWriter::Separate() {
  if (row_started_) {
    out_ += ',';
  }
  row_started_ = true;
}

CsvWriter& CsvWriter::Text(std::string_view value) {
  Separate();
  AppendTextField(out_, value);
  return *this;
}

CsvWriter& CsvWriter::Number(int64_t value) {
  Separate();
  out_ += std::to_string(value);
  return *this;
}

CsvWriter& CsvWriter::Empty() {
  Separate();
  return *this;
}

void CsvWriter::EndRow() {
  out_ += "\r\n";
  row_started_ = false;
}

std::string PercentEncodeRfc8187(std::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(value.size() * 3);
  for (const char ch : value) {
    const auto c = static_cast<unsigned char>(ch);
    const bool attr_char = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                           (c >= '0' && c <= '9') || c == '!' || c == '#' || c == '$' || c == '&' ||
                           c == '+' || c == '-' || c == '.' || c == '^' || c == '_' || c == '`' ||
                           c == '|' || c == '~';
    if (attr_char) {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0x0F];
    }
  }
  return out;
}

std::string FileNameFromTitle(std::string_view title, size_t max_code_points) {
  std::string out;
  size_t code_points = 0;
  bool pending_space = false;
  for (size_t i = 0; i < title.size();) {
    const auto c = static_cast<unsigned char>(title[i]);
    // The length of this UTF-8 sequence (an invalid lead byte counts as one byte).
    size_t length = 1;
    if (c >= 0xF0 && c < 0xF8) {
      length = 4;
    } else if (c >= 0xE0) {
      length = c < 0xF0 ? 3 : 1;
    } else if (c >= 0xC0) {
      length = 2;
    }
    if (i + length > title.size()) {
      break;  // a sequence cut short at the end
    }
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      pending_space = !out.empty();
      i += 1;
      continue;
    }
    if (code_points + (pending_space ? 2 : 1) > max_code_points) {
      break;
    }
    if (pending_space) {
      out += ' ';
      ++code_points;
      pending_space = false;
    }
    const bool refused = c < 0x20 || c == 0x7F || c == '/' || c == '\\' || c == ':' || c == '*' ||
                         c == '?' || c == '"' || c == '<' || c == '>' || c == '|';
    if (refused) {
      out += '_';
    } else if (length == 1 && c >= 0x80) {
      out += '_';  // not UTF-8
    } else {
      out.append(title.substr(i, length));
    }
    ++code_points;
    i += length;
  }
  return out;
}

std::string ContentDisposition(std::string_view ascii_name, std::string_view utf8_name) {
  std::string stem(utf8_name);
  std::string extension;
  if (const size_t dot = stem.rfind('.'); dot != std::string::npos && dot > 0) {
    extension = stem.substr(dot);
    stem.resize(dot);
  }
  const std::string name = FileNameFromTitle(stem) + FileNameFromTitle(extension, 16);
  return "attachment; filename=\"" + std::string(ascii_name) + "\"; filename*=UTF-8''" +
         PercentEncodeRfc8187(name);
}

}  // namespace civic::events::exports
