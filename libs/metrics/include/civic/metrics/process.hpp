#pragma once

#include <string>

#include "civic/metrics/metrics.hpp"

namespace civic::metrics {

// Registers the standard process metrics on `registry`, read from /proc/self at scrape time:
//   process_cpu_seconds_total       counter: user + system CPU time, from getrusage
//   process_start_time_seconds      gauge: unix time the process started (/proc/self/stat
//                                   starttime + /proc/stat btime, computed once here; falls
//                                   back to the wall clock at registration)
//   process_resident_memory_bytes   gauge: /proc/self/statm resident pages * page size
//   process_virtual_memory_bytes    gauge: /proc/self/statm size pages * page size
//   process_open_fds                gauge: number of entries in /proc/self/fd
//   process_max_fds                 gauge: RLIMIT_NOFILE soft limit
// and `civic_build_info{service,version,commit} 1` as a gauge. All but civic_build_info are
// callback metrics (Registry::AddCallbackGauge/AddCallbackCounter), i.e. samples the
// Registry's prometheus::Collectable produces at scrape time.
// A value that cannot be read at scrape time is exported as NaN (spelt "Nan" by
// prometheus-cpp's serializer).
// Throws std::invalid_argument if any of these names is already registered (e.g. when called
// twice on the same registry).
void RegisterProcessMetrics(Registry& registry, const std::string& service,
                            const std::string& version, const std::string& commit);

}  // namespace civic::metrics
