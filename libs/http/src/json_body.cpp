// JSON request bodies: nesting depth, repeated members, JSON media types.
#include "json_body.hpp"

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "civic/http/message.hpp"

namespace civic::http {

namespace {

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), AsciiLower);
  return s;
}

}  // namespace

int JsonDepth(std::string_view text, int limit) {
  int depth = 0;
  int max_depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      max_depth = std::max(max_depth, ++depth);
      if (max_depth > limit) {
        return max_depth;
      }
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return max_depth;
}

nlohmann::json ParseJsonBody(const std::string& body, std::string& repeated) {
  struct Frame {
    bool object = false;
    std::vector<std::string> keys;  // few per object: a scan beats a set
    std::string key;
    int64_t index = -1;  // an array's: the element being read
  };
  std::vector<Frame> frames;
  const auto element_begins = [&frames] {
    if (!frames.empty() && !frames.back().object) {
      ++frames.back().index;
    }
  };
  using Event = nlohmann::json::parse_event_t;
  auto callback = [&](int /*depth*/, Event event, nlohmann::json& parsed) {
    switch (event) {
      case Event::object_start:
      case Event::array_start:
        element_begins();
        frames.push_back(Frame{event == Event::object_start, {}, {}, -1});
        break;
      case Event::object_end:
      case Event::array_end:
        if (!frames.empty()) {
          frames.pop_back();
        }
        break;
      case Event::key: {
        if (frames.empty()) {
          break;
        }
        Frame& frame = frames.back();
        frame.key = parsed.get<std::string>();
        if (std::find(frame.keys.begin(), frame.keys.end(), frame.key) != frame.keys.end()) {
          if (repeated.empty()) {
            for (const Frame& outer : frames) {
              if (outer.object) {
                repeated += (repeated.empty() ? "" : ".") + outer.key;
              } else {
                repeated += "[" + std::to_string(outer.index) + "]";
              }
            }
          }
        } else {
          frame.keys.push_back(frame.key);
        }
        break;
      }
      case Event::value:
        element_begins();
        break;
    }
    return true;
  };
  return nlohmann::json::parse(body, callback);
}

namespace {

std::string_view Trimmed(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
    text.remove_prefix(1);
  }
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) {
    text.remove_suffix(1);
  }
  return text;
}

}  // namespace

bool IsJsonMediaType(const std::optional<std::string>& content_type) {
  if (!content_type) {
    return false;
  }
  const std::string_view header = *content_type;
  const size_t semicolon = header.find(';');
  const std::string media = Lower(std::string(Trimmed(header.substr(0, semicolon))));
  const bool json = media == "application/json" ||
                    (media.size() > 5 && media.compare(media.size() - 5, 5, "+json") == 0);
  if (!json) {
    return false;
  }
  // JSON is UTF-8 (RFC 8259 8.1): a charset parameter, if any, must say so.
  size_t start = semicolon;
  while (start != std::string_view::npos) {
    const size_t end = header.find(';', start + 1);
    const std::string_view parameter = Trimmed(header.substr(start + 1, end - start - 1));
    start = end;
    const size_t equals = parameter.find('=');
    if (equals == std::string_view::npos ||
        !EqualsIgnoreCase(Trimmed(parameter.substr(0, equals)), "charset")) {
      continue;
    }
    std::string_view value = Trimmed(parameter.substr(equals + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
    }
    if (!EqualsIgnoreCase(value, "utf-8")) {
      return false;
    }
  }
  return true;
}

}  // namespace civic::http
