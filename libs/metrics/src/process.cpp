#include "civic/metrics/process.hpp"

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace civic::metrics {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Whole contents of a (proc) file, or nullopt on error.
std::optional<std::string> ReadFile(const char* path) {
  const int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return std::nullopt;
  }
  std::string contents;
  char buf[4096];
  for (;;) {
    const ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      close(fd);
      return std::nullopt;
    }
    if (n == 0) {
      break;
    }
    contents.append(buf, static_cast<std::size_t>(n));
  }
  close(fd);
  return contents;
}

// Splits on spaces and newlines, dropping empty fields.
std::vector<std::string_view> SplitFields(std::string_view text) {
  std::vector<std::string_view> fields;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t start = text.find_first_not_of(" \n", pos);
    if (start == std::string_view::npos) {
      break;
    }
    const std::size_t end = std::min(text.find_first_of(" \n", start), text.size());
    fields.push_back(text.substr(start, end - start));
    pos = end;
  }
  return fields;
}

std::optional<uint64_t> ParseUint(std::string_view text) {
  uint64_t value = 0;
  const auto [ptr, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || ptr != text.data() + text.size()) {
    return std::nullopt;
  }
  return value;
}

// Unix time the process started, from /proc/self/stat starttime and /proc/stat btime; NaN if
// either cannot be read.
double ProcStartTimeSeconds() {
  const std::optional<std::string> stat = ReadFile("/proc/self/stat");
  const std::optional<std::string> system_stat = ReadFile("/proc/stat");
  if (!stat || !system_stat) {
    return kNaN;
  }
  // comm (field 2) is parenthesised and may contain spaces; fields after it start at 3.
  const std::size_t close_paren = stat->rfind(')');
  if (close_paren == std::string::npos) {
    return kNaN;
  }
  constexpr std::size_t kStartTimeIndex = 22 - 3;
  const std::vector<std::string_view> fields =
      SplitFields(std::string_view(*stat).substr(close_paren + 1));
  if (fields.size() <= kStartTimeIndex) {
    return kNaN;
  }
  const std::optional<uint64_t> start_ticks = ParseUint(fields[kStartTimeIndex]);

  const std::string_view kBtime = "\nbtime ";
  const std::size_t btime_pos = system_stat->find(kBtime);
  if (btime_pos == std::string::npos) {
    return kNaN;
  }
  const std::string_view rest = std::string_view(*system_stat).substr(btime_pos + kBtime.size());
  const std::optional<uint64_t> boot_time = ParseUint(rest.substr(0, rest.find('\n')));

  const long ticks_per_second = sysconf(_SC_CLK_TCK);
  if (!start_ticks || !boot_time || ticks_per_second <= 0) {
    return kNaN;
  }
  return static_cast<double>(*boot_time) +
         static_cast<double>(*start_ticks) / static_cast<double>(ticks_per_second);
}

// /proc/self/statm field `index` (0 = size, 1 = resident) converted to bytes, or NaN.
double StatmBytes(std::size_t index) {
  const std::optional<std::string> statm = ReadFile("/proc/self/statm");
  if (!statm) {
    return kNaN;
  }
  const std::vector<std::string_view> fields = SplitFields(*statm);
  if (fields.size() <= index) {
    return kNaN;
  }
  const std::optional<uint64_t> pages = ParseUint(fields[index]);
  const long page_size = sysconf(_SC_PAGESIZE);
  if (!pages || page_size <= 0) {
    return kNaN;
  }
  return static_cast<double>(*pages) * static_cast<double>(page_size);
}

double OpenFds() {
  std::error_code error;
  std::filesystem::directory_iterator it("/proc/self/fd", error);
  if (error) {
    return kNaN;
  }
  double count = 0;
  for (const std::filesystem::directory_iterator end; it != end; it.increment(error)) {
    if (error) {
      return kNaN;
    }
    ++count;
  }
  return count;
}

double MaxFds() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) {
    return kNaN;
  }
  if (limit.rlim_cur == RLIM_INFINITY) {
    return std::numeric_limits<double>::infinity();
  }
  return static_cast<double>(limit.rlim_cur);
}

double CpuSeconds() {
  rusage usage{};
  if (getrusage(RUSAGE_SELF, &usage) != 0) {
    return kNaN;
  }
  const auto seconds = [](const timeval& tv) {
    return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
  };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

}  // namespace

void RegisterProcessMetrics(Registry& registry, const std::string& service,
                            const std::string& version, const std::string& commit) {
  double start_time = ProcStartTimeSeconds();
  if (std::isnan(start_time)) {
    start_time =
        std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  }
  registry.AddCallbackCounter("process_cpu_seconds_total",
                              "Total user and system CPU time spent in seconds.", CpuSeconds);
  registry.AddCallbackGauge("process_start_time_seconds",
                            "Start time of the process since unix epoch in seconds.",
                            [start_time] { return start_time; });
  registry.AddCallbackGauge("process_resident_memory_bytes", "Resident memory size in bytes.",
                            [] { return StatmBytes(1); });
  registry.AddCallbackGauge("process_virtual_memory_bytes", "Virtual memory size in bytes.",
                            [] { return StatmBytes(0); });
  registry.AddCallbackGauge("process_open_fds", "Number of open file descriptors.", OpenFds);
  registry.AddCallbackGauge("process_max_fds", "Maximum number of open file descriptors.", MaxFds);
  registry
      .AddGauge("civic_build_info", "Build information; the value is always 1.",
                {"service", "version", "commit"})
      .WithLabels({service, version, commit})
      .Set(1);
}

}  // namespace civic::metrics
