#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "civic/http/access_log.hpp"

namespace civic::runtime {

enum class LogFormat { kText, kJson };

// "text" or "json"; nothing for anything else.
std::optional<LogFormat> ParseLogFormat(std::string_view name);

// Sets the default spdlog logger: stderr, at `level` (trace|debug|info|warn|error|critical|off;
// validated by the config flags). Text: "<time> <level> <service>: <message>"; JSON: one object
// a line, {"time","level","service","message"}. Times are UTC, with milliseconds.
void InitLogging(const std::string& service, const std::string& level,
                 LogFormat format = LogFormat::kText);

// Appends `text` to `out` as a JSON string, quotes included: '"', '\' and control characters
// escaped, valid UTF-8 kept as it is, each byte of an invalid UTF-8 sequence as U+FFFD.
void AppendJsonString(std::string& out, std::string_view text);

// One access log line, newline included. Text:
//   <time> access <service>: method=GET route=/v1/events/{id} status=200 duration_ms=0.412
//   bytes=96 request_id=<id> [key=<key>] [trace_id=<trace id>]
// JSON: {"time","type":"access","service","method","route","status","duration_ms","bytes",
//   "request_id"[,"key"][,"trace_id"]}.
std::string FormatAccessLine(const http::AccessRecord& record, LogFormat format,
                             std::string_view service);
// The same, appended to `line`.
void AppendAccessLine(std::string& line, const http::AccessRecord& record, LogFormat format,
                      std::string_view service);

// The line announcing where `service` listens (`url`), newline included, for standard output
// beside the access log. Text: "<service> listening on <url>"; JSON: {"time","type":"listening",
// "service","url","message"}, `message` being the text line (so that a JSON log is JSON lines
// throughout, and the text is still found by those who look for it).
std::string ListeningLine(std::string_view service, std::string_view url, LogFormat format);

// An access log written to `fd` (standard output for the services) by a thread of its own:
// Write() formats the line and appends it to a buffer under a short lock, and the thread writes
// the buffer every 100 ms, or sooner once it holds 64 KiB. When the output does not keep up and
// 4 MiB wait, further lines are dropped, and how many is logged (warn, at most every 10 s).
// Destroying it writes what is buffered.
std::shared_ptr<http::AccessLog> MakeAccessLog(std::string service, LogFormat format, int fd);

}  // namespace civic::runtime
