#include "civic/runtime/logging.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <thread>

#include "civic/runtime/thread_name.hpp"

namespace civic::runtime {

namespace {

// `value` (0..999) as three digits.
void AppendThreeDigits(std::string& out, int value) {
  out += static_cast<char>('0' + value / 100);
  out += static_cast<char>('0' + value / 10 % 10);
  out += static_cast<char>('0' + value % 10);
}

// "2026-12-07T14:18:47.123" for `time`, UTC; the seconds are formatted once a second per thread.
void AppendUtc(std::string& out, std::chrono::system_clock::time_point time) {
  thread_local std::time_t formatted_at = -1;
  thread_local char seconds_text[24];
  const auto since_epoch = time.time_since_epoch();
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(since_epoch).count() % 1000;
  const std::time_t seconds = std::chrono::system_clock::to_time_t(time);
  if (seconds != formatted_at) {
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    std::strftime(seconds_text, sizeof seconds_text, "%Y-%m-%dT%H:%M:%S", &utc);
    formatted_at = seconds;
  }
  const int millis = static_cast<int>(ms < 0 ? ms + 1000 : ms);
  out += seconds_text;
  out += '.';
  AppendThreeDigits(out, millis);
}

template <class Number>
void AppendNumber(std::string& out, Number value) {
  char buffer[24];
  const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  out.append(buffer, end);
}

// Milliseconds with three decimals ("0.412"), from a duration.
void AppendMilliseconds(std::string& out, std::chrono::nanoseconds duration) {
  const long long us = std::max<long long>(
      0, std::chrono::duration_cast<std::chrono::microseconds>(duration).count());
  AppendNumber(out, us / 1000);
  out += '.';
  AppendThreeDigits(out, static_cast<int>(us % 1000));
}

// The length of the valid UTF-8 sequence at the start of `text`, or 0.
size_t Utf8SequenceLength(std::string_view text) {
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char lead = byte(0);
  size_t length = 0;
  uint32_t min = 0;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
    min = 0x80;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    min = 0x800;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    min = 0x10000;
  } else {
    return 0;
  }
  if (text.size() < length) {
    return 0;
  }
  uint32_t code = lead & (0xFF >> (length + 1));
  for (size_t i = 1; i < length; ++i) {
    if ((byte(i) & 0xC0) != 0x80) {
      return 0;
    }
    code = (code << 6) | (byte(i) & 0x3F);
  }
  if (code < min || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) {
    return 0;
  }
  return length;
}

// spdlog lines as JSON objects.
class JsonFormatter final : public spdlog::formatter {
 public:
  explicit JsonFormatter(std::string service) : service_(std::move(service)) {}

  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    std::string line;
    line.reserve(96 + msg.payload.size());
    line += "{\"time\":\"";
    AppendUtc(line, msg.time);
    line += "Z\",\"level\":\"";
    const auto level = spdlog::level::to_string_view(msg.level);
    line.append(level.data(), level.size());
    line += "\",\"service\":";
    AppendJsonString(line, service_);
    line += ",\"message\":";
    AppendJsonString(line, std::string_view(msg.payload.data(), msg.payload.size()));
    line += "}\n";
    dest.append(line.data(), line.data() + line.size());
  }

  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>(service_);
  }

 private:
  std::string service_;
};

class BufferedAccessLog final : public http::AccessLog {
 public:
  static constexpr size_t kWakeAt = 64 * 1024;
  static constexpr size_t kMaxBuffered = 4 * 1024 * 1024;

  BufferedAccessLog(std::string service, LogFormat format, int fd)
      : service_(std::move(service)), format_(format), fd_(fd) {
    buffer_.reserve(kWakeAt * 2);
    thread_ = std::thread([this] { Run(); });
  }

  ~BufferedAccessLog() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    cv_.notify_one();
    thread_.join();
  }

  BufferedAccessLog(const BufferedAccessLog&) = delete;
  BufferedAccessLog& operator=(const BufferedAccessLog&) = delete;

  void Write(const http::AccessRecord& record) override {
    // Formatted outside the lock, into this thread's own buffer (no allocation once grown).
    thread_local std::string line;
    line.clear();
    AppendAccessLine(line, record, format_, service_);
    bool wake = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (buffer_.size() + line.size() > kMaxBuffered) {
        ++dropped_;
        return;
      }
      buffer_ += line;
      if (buffer_.size() >= kWakeAt && !wake_requested_) {
        wake_requested_ = true;
        wake = true;
      }
    }
    if (wake) {
      cv_.notify_one();
    }
  }

 private:
  void Run() {
    NameThisThread("access-log");
    std::string out;
    out.reserve(kWakeAt * 2);
    uint64_t dropped = 0;
    auto last_warning = std::chrono::steady_clock::now() - std::chrono::seconds(10);
    for (;;) {
      bool stopping = false;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait_for(lock, std::chrono::milliseconds(100),
                     [this] { return stopping_ || wake_requested_; });
        out.swap(buffer_);
        wake_requested_ = false;
        dropped += dropped_;
        dropped_ = 0;
        stopping = stopping_;
      }
      WriteAll(out);
      out.clear();
      // Drops are told at most every 10 s (and at the end), not once per flush.
      const auto now = std::chrono::steady_clock::now();
      if (dropped > 0 && (stopping || now - last_warning >= std::chrono::seconds(10))) {
        spdlog::warn("access log: {} lines dropped: the output did not keep up", dropped);
        dropped = 0;
        last_warning = now;
      }
      if (stopping) {
        return;
      }
    }
  }

  // Writes `data` to the descriptor; what cannot be written (a closed output) is dropped.
  void WriteAll(const std::string& data) const {
    size_t done = 0;
    while (done < data.size()) {
      const ssize_t n = ::write(fd_, data.data() + done, data.size() - done);
      if (n < 0) {
        if (errno == EINTR) {
          continue;
        }
        return;
      }
      done += static_cast<size_t>(n);
    }
  }

  const std::string service_;
  const LogFormat format_;
  const int fd_;
  std::mutex mu_;  // guards buffer_, wake_requested_, dropped_, stopping_
  std::condition_variable cv_;
  std::string buffer_;
  bool wake_requested_ = false;
  uint64_t dropped_ = 0;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace

std::optional<LogFormat> ParseLogFormat(std::string_view name) {
  if (name == "text") {
    return LogFormat::kText;
  }
  if (name == "json") {
    return LogFormat::kJson;
  }
  return std::nullopt;
}

void InitLogging(const std::string& service, const std::string& level, LogFormat format) {
  auto logger = spdlog::stderr_logger_mt(service);
  if (format == LogFormat::kJson) {
    logger->set_formatter(std::make_unique<JsonFormatter>(service));
  } else {
    logger->set_formatter(std::make_unique<spdlog::pattern_formatter>(
        "%Y-%m-%dT%H:%M:%S.%eZ %l " + service + ": %v", spdlog::pattern_time_type::utc));
  }
  logger->set_level(spdlog::level::from_str(level));
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
}

void AppendJsonString(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) {
      const size_t length = Utf8SequenceLength(text.substr(i));
      if (length == 0) {
        out += "\\ufffd";
        ++i;
      } else {
        out.append(text.substr(i, length));
        i += length;
      }
      continue;
    }
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20 || c == 0x7F) {
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 0xF];
        } else {
          out += static_cast<char>(c);
        }
    }
    ++i;
  }
  out += '"';
}

std::string FormatAccessLine(const http::AccessRecord& record, LogFormat format,
                             std::string_view service) {
  std::string line;
  line.reserve(256);
  AppendAccessLine(line, record, format, service);
  return line;
}

void AppendAccessLine(std::string& line, const http::AccessRecord& record, LogFormat format,
                      std::string_view service) {
  const std::string_view method = http::ToString(record.method);
  if (format == LogFormat::kJson) {
    line += "{\"time\":\"";
    AppendUtc(line, record.time);
    line += "Z\",\"type\":\"access\",\"service\":";
    AppendJsonString(line, service);
    line += ",\"method\":\"";
    line += method;
    line += "\",\"route\":";
    AppendJsonString(line, record.route);
    line += ",\"status\":";
    AppendNumber(line, record.status);
    line += ",\"duration_ms\":";
    AppendMilliseconds(line, record.duration);
    line += ",\"bytes\":";
    AppendNumber(line, record.bytes);
    line += ",\"request_id\":";
    AppendJsonString(line, record.request_id);
    if (!record.key.empty()) {
      line += ",\"key\":";
      AppendJsonString(line, record.key);
    }
    if (!record.trace_id.empty()) {
      line += ",\"trace_id\":";
      AppendJsonString(line, record.trace_id);
    }
    line += "}\n";
    return;
  }
  AppendUtc(line, record.time);
  line += "Z access ";
  line += service;
  line += ": method=";
  line += method;
  line += " route=";
  line += record.route;
  line += " status=";
  AppendNumber(line, record.status);
  line += " duration_ms=";
  AppendMilliseconds(line, record.duration);
  line += " bytes=";
  AppendNumber(line, record.bytes);
  line += " request_id=";
  line += record.request_id;
  if (!record.key.empty()) {
    line += " key=";
    line += record.key;
  }
  if (!record.trace_id.empty()) {
    line += " trace_id=";
    line += record.trace_id;
  }
  line += '\n';
}

std::string ListeningLine(std::string_view service, std::string_view url, LogFormat format) {
  std::string text(service);
  text += " listening on ";
  text += url;
  if (format == LogFormat::kText) {
    return text + "\n";
  }
  std::string line = "{\"time\":\"";
  AppendUtc(line, std::chrono::system_clock::now());
  line += "Z\",\"type\":\"listening\",\"service\":";
  AppendJsonString(line, service);
  line += ",\"url\":";
  AppendJsonString(line, url);
  line += ",\"message\":";
  AppendJsonString(line, text);
  line += "}\n";
  return line;
}

std::shared_ptr<http::AccessLog> MakeAccessLog(std::string service, LogFormat format, int fd) {
  return std::make_shared<BufferedAccessLog>(std::move(service), format, fd);
}

}  // namespace civic::runtime
