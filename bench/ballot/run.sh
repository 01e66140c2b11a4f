#!/usr/bin/env bash
# Measures the ballot on this machine (docs/performance.md records the results):
#   bench/ballot/run.sh                      # STORED=10000000 DURATION=10s CONNECTIONS=64
#   STORED=1000000 DURATION=5s bench/ballot/run.sh
#
# 1. Empty store: the same server's GET /healthz as the ceiling, then single votes (wrk, distinct
#    voters, CONNECTIONS connections; once with the lean client script, once with the client
#    building each request with wrk.format, to show what the client's own CPU costs on these
#    shared cores), then batches of BATCH_SIZE votes (BATCH_CONNECTIONS).
# 2. STORED votes preloaded through the ballot's own storage code (civic-ballot-preload): the
#    restart time (process start to "listening", dedup and tallies rebuilt from the log), RSS per
#    stored vote, and the ceiling and single-vote rate again, to compare with the empty store.
# Needs wrk; builds Release first. Everything runs on 127.0.0.1 with a temporary data dir.
set -euo pipefail
cd "$(dirname "$0")/../.."

STORED="${STORED:-10000000}"
DURATION="${DURATION:-10s}"
CONNECTIONS="${CONNECTIONS:-64}"
BATCH_SIZE="${BATCH_SIZE:-1000}"
BATCH_CONNECTIONS="${BATCH_CONNECTIONS:-16}"
WRK_THREADS="${WRK_THREADS:-2}"
BALLOT_THREADS="${BALLOT_THREADS:-2}"

source bench/ballot/common.sh
rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$pid/status"; }

# ceiling: wrk on GET /healthz; prints requests/s.
ceiling() {
  wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d"$DURATION" -H "Connection: keep-alive" \
    "http://127.0.0.1:$port/healthz" | awk '/Requests\/sec/ {print $2}'
}
# The same requests as votes(), sent with a wrong client key: answered 401 after the HTTP layer
# read and routed them, before any vote work. What the request alone costs, for comparison.
unauthorized() {
  BALLOT_CLIENT_KEY="not-the-key" VOTER_PREFIX="$1" wrk -t"$WRK_THREADS" -c"$CONNECTIONS" \
    -d"$DURATION" --latency -s bench/ballot/vote.lua "http://127.0.0.1:$port" | grep votes_per_s |
    sed 's/votes_per_s/requests_per_s/'
}
votes() {
  VOTER_PREFIX="$1" LEAN="${LEAN:-1}" wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency \
    -s bench/ballot/vote.lua "http://127.0.0.1:$port" | grep votes_per_s
}
batches() {
  VOTER_PREFIX="$1" BATCH_SIZE="$BATCH_SIZE" wrk -t"$WRK_THREADS" -c"$BATCH_CONNECTIONS" \
    -d"$DURATION" --latency -s bench/ballot/batch.lua "http://127.0.0.1:$port" | grep votes_per_s
}
# The sum of a metric's samples over its labels (ballot_votes_accepted_total is by award).
metric() {
  curl -s "http://127.0.0.1:$port/metrics" |
    awk -v m="$1" '$1 == m || index($1, m "{") == 1 {s += $2; n++} END {if (n) print s}'
}

echo "== machine: $(nproc) cores, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)," \
  "$(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo) RAM"
echo "== load average at start: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine skews the numbers)"
echo "== settings: duration=$DURATION connections=$CONNECTIONS wrk_threads=$WRK_THREADS" \
  "ballot_threads=$BALLOT_THREADS batch=$BATCH_SIZE x $BATCH_CONNECTIONS connections"

echo "== empty store"
"$preload" --data-dir "$work/empty" --votes 0 >/dev/null
start_ballot "$work/empty"
rss_empty=$(rss_kb)
echo "start: ${start_ms} ms, RSS ${rss_empty} KiB"
ceiling_empty=$(ceiling)
echo "ceiling GET /healthz: ${ceiling_empty} req/s"
baseline_empty=$(unauthorized empty-401)
echo "same vote requests with a wrong key (401, no vote work): $baseline_empty"
single_empty=$(votes empty-single)
echo "single votes: $single_empty"
single_costly=$(LEAN=0 votes empty-single-costly)
echo "single votes, the client building each request with wrk.format: $single_costly"
batch_empty=$(batches empty-batch)
echo "batches: $batch_empty"
echo "commits: $(metric ballot_commit_batch_size_count) transactions for" \
  "$(metric ballot_votes_accepted_total) votes"
stop_ballot

echo "== $STORED votes stored"
"$preload" --data-dir "$work/full" --votes "$STORED"
du -sh "$work/full" | awk '{print "data dir: " $1}'
sync
start_ballot "$work/full"
rss_full=$(rss_kb)
echo "restart: ${start_ms} ms to listening (dedup and tallies rebuilt), RSS ${rss_full} KiB"
echo "RSS per stored vote: $(awk -v f="$rss_full" -v e="$rss_empty" -v n="$STORED" \
  'BEGIN {printf "%.1f B total/N, %.1f B over the empty server", f * 1024 / n, (f - e) * 1024 / n}')"
echo "dedup table: $(metric ballot_dedup_memory_bytes) bytes for $(metric ballot_dedup_entries) entries"
ceiling_full=$(ceiling)
echo "ceiling GET /healthz: ${ceiling_full} req/s"
single_full=$(votes full-single)
echo "single votes: $single_full"
echo "RSS after the load: $(rss_kb) KiB"
stop_ballot

echo "== load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
rate() { echo "$1" | sed -n 's/.*votes_per_s=\([0-9]*\).*/\1/p'; }
echo "== summary"
rate401() { echo "$1" | sed -n 's/.*requests_per_s=\([0-9]*\).*/\1/p'; }
awk -v c="$ceiling_empty" -v s="$(rate "$single_empty")" -v cf="$ceiling_full" \
  -v u="$(rate401 "$baseline_empty")" \
  -v sf="$(rate "$single_full")" -v b="$(rate "$batch_empty")" \
  -v sc="$(rate "$single_costly")" 'BEGIN {
  printf "vote requests answered 401: %.0f/s = %.0f%% of the ceiling\n", u, 100 * u / c
  printf "single votes, empty store: %.0f/s = %.0f%% of the ceiling, %.0f%% of the 401 rate\n",
    s, 100 * s / c, 100 * s / u
  printf "single votes, client using wrk.format: %.0f/s = %.0f%% of the ceiling\n", sc, 100 * sc / c
  printf "single votes, stored:      %.0f/s = %.0f%% of the ceiling (%.0f%% of the empty rate)\n",
    sf, 100 * sf / cf, 100 * sf / s
  printf "batch votes: %.0f/s\n", b
}'
