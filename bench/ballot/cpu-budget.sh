#!/usr/bin/env bash
# Where the CPU of a request goes, on this machine (docs/performance.md, "CPU budget"):
#   bench/ballot/cpu-budget.sh   # ROUNDS=3 DURATION=6 CONNECTIONS=64 BALLOT_THREADS=2
#
# Each round measures, against one fresh ballot per measurement (empty store, 127.0.0.1):
#   healthz - GET /healthz, the ceiling of bench/ballot/run.sh;
#   401     - the single-vote requests of vote.lua with a wrong client key: read, parsed, routed
#             and answered 401 before any vote work;
#   vote    - single votes (vote.lua, every request a distinct voter).
# and prints the rate, the share of the two cores left idle (idle + iowait from /proc/stat), the
# server's and wrk's CPU per request (µs, from /proc/PID/stat and wrk's rusage), and the server's
# CPU per request by thread name (civic-ballot = the network threads). On 2 shared cores with
# no idle time, rate = 2 s / (server + wrk µs per request); so a vote reaches a share S of the
# ceiling only when it costs at most 1/S times the ceiling's CPU per request.
# Needs wrk; builds Release first.
set -euo pipefail
cd "$(dirname "$0")/../.."

ROUNDS="${ROUNDS:-3}"
DURATION="${DURATION:-6}"
CONNECTIONS="${CONNECTIONS:-64}"
BALLOT_THREADS="${BALLOT_THREADS:-2}"

source bench/ballot/common.sh
hz=$(getconf CLK_TCK)

# ticks PID: user + system clock ticks of the whole process.
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# thread_ticks PID: "name ticks" per thread name, summed over threads of the same name.
thread_ticks() {
  local t
  for t in /proc/"$1"/task/*; do
    printf '%s %s\n' "$(tr ' ' '_' <"$t/comm")" "$(awk '{print $14 + $15}' "$t/stat")"
  done | awk '{s[$1] += $2} END {for (k in s) print k, s[k]}' | sort
}
# cpu_times: "busy idle" jiffies over all CPUs (idle includes iowait; steal counts as busy).
cpu_times() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9, $5 + $6}' /proc/stat; }

measure() {
  local mode="$1" dir out t0 t1 c0 c1 busy0 idle0 busy1 idle1 idle rate wrk_cpu n
  dir="$work/$mode.$RANDOM"
  "$preload" --data-dir "$dir" --votes 0 >/dev/null
  start_ballot "$dir"
  sleep 0.3
  thread_ticks "$pid" >"$work/th0"
  t0=$(ticks "$pid")
  c0=$(cpu_times)
  local url="http://127.0.0.1:$port"
  case "$mode" in
    healthz)
      out=$(/usr/bin/time -f "wrk_cpu %U %S" wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" \
        "$url/healthz" 2>&1)
      rate=$(awk '/Requests\/sec/ {print $2}' <<<"$out") ;;
    401 | vote)
      local key="$CIVIC_BALLOT_CLIENT_KEY"
      [ "$mode" = 401 ] && key="not-the-client-key"
      out=$(BALLOT_CLIENT_KEY="$key" VOTER_PREFIX="b$RANDOM$RANDOM" /usr/bin/time \
        -f "wrk_cpu %U %S" wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" -s bench/ballot/vote.lua \
        "$url" 2>&1)
      rate=$(sed -n 's/.*votes_per_s=\([0-9]*\).*/\1/p' <<<"$out") ;;
  esac
  c1=$(cpu_times)
  t1=$(ticks "$pid")
  thread_ticks "$pid" >"$work/th1"
  stop_ballot
  rm -rf "$dir"
  [ -n "$rate" ] || { echo "$mode: no rate; wrk said: $out"; exit 1; }
  read -r busy0 idle0 <<<"$c0"
  read -r busy1 idle1 <<<"$c1"
  idle=$(( 100 * (idle1 - idle0) / (busy1 - busy0 + idle1 - idle0) ))
  wrk_cpu=$(awk '/^wrk_cpu/ {print $2 + $3}' <<<"$out")
  n=$(awk -v r="$rate" -v s="$DURATION" 'BEGIN {print r * s}')
  local per_thread
  per_thread=$(join "$work/th0" "$work/th1" | awk -v hz="$hz" -v n="$n" \
    '$3 > $2 {printf " %s=%.1f", $1, ($3 - $2) * 1e6 / hz / n}')
  printf '%-8s %9.0f req/s  idle %3d%%  server %5.1f µs  wrk %4.1f µs  total %5.1f µs |%s\n' \
    "$mode" "$rate" "$idle" \
    "$(awk -v d=$((t1 - t0)) -v hz="$hz" -v n="$n" 'BEGIN {print d * 1e6 / hz / n}')" \
    "$(awk -v c="$wrk_cpu" -v n="$n" 'BEGIN {print c * 1e6 / n}')" \
    "$(awk -v d=$((t1 - t0)) -v hz="$hz" -v c="$wrk_cpu" -v n="$n" \
      'BEGIN {print (d / hz + c) * 1e6 / n}')" "$per_thread"
}

echo "# $(nproc) cores; ${DURATION}s per measurement, $CONNECTIONS connections, wrk -t2," \
  "--threads $BALLOT_THREADS"
for round in $(seq "$ROUNDS"); do
  echo "## round $round"
  for mode in healthz 401 vote; do
    measure "$mode"
  done
done
