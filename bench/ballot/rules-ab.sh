#!/usr/bin/env bash
# The hold rules' cost (issue #34): the same Release build of the ballot with the rules on (the
# defaults) and off (--hold-rules off), alternating, ROUNDS rounds of DURATION each: single votes
# (vote.lua, 64 connections) and batches (batch.lua, 1,000 votes each, 16 connections), every
# vote carrying a device and an address (CONTEXT=1: every rule is checked, none trips), on the
# same server in each round (CONTEXT=0: votes without device or address, so only the voter
# rule applies). Then, with the rules on, RSS per stored vote with STORED votes
# preloaded (0 skips it).
#   ROUNDS=3 DURATION=5s STORED=10000000 bench/ballot/rules-ab.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
ROUNDS="${ROUNDS:-3}"; DURATION="${DURATION:-5s}"; STORED="${STORED:-0}"; CONTEXT="${CONTEXT:-1}"
BALLOT_THREADS=2
source bench/ballot/common.sh
rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$pid/status"; }
# The server's CPU time so far (user + system), in clock ticks; and per vote, in µs, of a run
# that took TICKS ticks at VOTES_PER_S for DURATION: a measure of the rules' cost that the
# machine's other load disturbs much less than the rate does.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
hz=$(getconf CLK_TCK)
us_per_vote() { awk -v t="$1" -v r="$2" -v d="${DURATION%s}" -v hz="$hz" 'BEGIN {printf "%.2f", t / hz * 1e6 / (r * d)}'; }
rate_of() { sed -n 's/.*votes_per_s=\([0-9]*\).*/\1/p' <<<"$1"; }
for r in $(seq 1 "$ROUNDS"); do
  order="off on"; [ $((r % 2)) = 0 ] && order="on off"  # alternate who goes first: the host drifts
  for which in $order; do
    export CIVIC_BALLOT_HOLD_RULES=""; [ "$which" = off ] && export CIVIC_BALLOT_HOLD_RULES=off
    dir="$work/$which-$r"
    "$preload" --data-dir "$dir" --votes 0 >/dev/null
    start_ballot "$dir"
    c0=$(cpu_ticks)
    v=$(CONTEXT=$CONTEXT VOTER_PREFIX="$which-$r" wrk -t2 -c64 -d"$DURATION" --latency -s bench/ballot/vote.lua "http://127.0.0.1:$port" | grep votes_per_s)
    c1=$(cpu_ticks)
    b=$(CONTEXT=$CONTEXT VOTER_PREFIX="$which-b$r" BATCH_SIZE=1000 wrk -t2 -c16 -d"$DURATION" -s bench/ballot/batch.lua "http://127.0.0.1:$port" | grep votes_per_s)
    c2=$(cpu_ticks)
    held=$(curl -s "http://127.0.0.1:$port/metrics" | awk '/^ballot_votes_held_total/ {s += $2} END {print s + 0}')
    sc=$(us_per_vote $((c1 - c0)) "$(rate_of "$v")"); bc=$(us_per_vote $((c2 - c1)) "$(rate_of "$b")")
    echo "round $r rules=$which single: $v cpu_us_per_vote=$sc | batch: $b cpu_us_per_vote=$bc | held=$held load=$(cut -d' ' -f1 /proc/loadavg)"
    echo "$r $which $(rate_of "$v") $sc $(rate_of "$b") $bc" >>"$work/rounds"
    stop_ballot
  done
done
# Medians (and the lowest and highest) of each setting, and of the per-round ratios on / off
# (for CPU per vote: off / on, so that below 1 is slower with the rules too).
if [ -s "$work/rounds" ]; then
  awk '
    function median(list, n,   sorted, i, j, t) {
      for (i = 1; i <= n; i++) sorted[i] = list[i]
      for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (sorted[j] < sorted[i]) { t = sorted[i]; sorted[i] = sorted[j]; sorted[j] = t }
      lo = sorted[1]; hi = sorted[n]
      return n % 2 ? sorted[(n + 1) / 2] : (sorted[n / 2] + sorted[n / 2 + 1]) / 2
    }
    { v[$2, $1, 3] = $3; v[$2, $1, 4] = $4; v[$2, $1, 5] = $5; v[$2, $1, 6] = $6; if ($1 > rounds) rounds = $1 }
    END {
      split("single_votes_per_s single_cpu_us_per_vote batch_votes_per_s batch_cpu_us_per_vote", names, " ")
      for (f = 3; f <= 6; f++) {
        n = 0; for (r = 1; r <= rounds; r++) off[++n] = v["off", r, f]; m_off = median(off, n); off_lo = lo; off_hi = hi
        n = 0; for (r = 1; r <= rounds; r++) on[++n] = v["on", r, f]; m_on = median(on, n); on_lo = lo; on_hi = hi
        n = 0; for (r = 1; r <= rounds; r++) ratio[++n] = f % 2 ? v["on", r, f] / v["off", r, f] : v["off", r, f] / v["on", r, f]
        m_ratio = median(ratio, n)
        printf "summary %s: off median %s (%s..%s), on median %s (%s..%s), on/off per round: median %.3f (%.3f..%.3f)\n", names[f - 2], m_off, off_lo, off_hi, m_on, on_lo, on_hi, m_ratio, lo, hi
      }
    }' "$work/rounds"
fi
if [ "$STORED" != 0 ]; then
  unset CIVIC_BALLOT_HOLD_RULES
  "$preload" --data-dir "$work/empty" --votes 0 >/dev/null
  start_ballot "$work/empty"; rss_empty=$(rss_kb); stop_ballot
  "$preload" --data-dir "$work/full" --votes "$STORED" >/dev/null
  start_ballot "$work/full"; rss_full=$(rss_kb)
  echo "rules on: RSS empty ${rss_empty} KiB, with $STORED stored ${rss_full} KiB, per stored vote $(awk -v f="$rss_full" -v n="$STORED" 'BEGIN {printf "%.1f", f * 1024 / n}') B ($(awk -v f="$rss_full" -v e="$rss_empty" -v n="$STORED" 'BEGIN {printf "%.1f", (f - e) * 1024 / n}') B over empty)"
  stop_ballot
fi
