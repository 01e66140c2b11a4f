#!/usr/bin/env bash
# The rate limiter under a flood of distinct client addresses (issue #34): the ballot (Release),
# trusting 127.0.0.1 as a proxy, takes TOTAL (default 1,000,000) anonymous reads, each from a
# distinct address in X-Forwarded-For (half IPv4, half IPv6 /64s); RSS before and after, and
# again after a second flood of as many new addresses (the table is full: RSS must stay put).
# Then the table alone, in process (civic-rate-limit-bench).
#   bench/http/rate-limit-rss.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
TOTAL="${TOTAL:-1000000}"; BALLOT_THREADS=2
source bench/ballot/common.sh
cmake --build build/release --target civic-rate-limit-bench >/dev/null
rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$pid/status"; }
export CIVIC_BALLOT_TRUSTED_PROXIES=127.0.0.1
"$preload" --data-dir "$work/d" --votes 0 >/dev/null
start_ballot "$work/d"
before=$(rss_kb)
TOTAL=$TOTAL wrk -t2 -c64 -d120s -s bench/http/xff.lua "http://127.0.0.1:$port" | grep -E "requests in|Requests/sec"
after=$(rss_kb)
OFFSET=$TOTAL TOTAL=$TOTAL wrk -t2 -c64 -d120s -s bench/http/xff.lua "http://127.0.0.1:$port" >/dev/null
after2=$(rss_kb)
limited=$(curl -s "http://127.0.0.1:$port/metrics" | awk '/^http_requests_rate_limited_total/ {s += $2} END {print s + 0}')
echo "server: RSS ${before} KiB before, ${after} KiB after $TOTAL distinct addresses, ${after2} KiB after a second flood; 429s: $limited"
stop_ballot
build/release/bench/civic-rate-limit-bench "$TOTAL"
