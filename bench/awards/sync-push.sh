#!/usr/bin/env bash
# What the synchronous push of an award change costs its write (issue #29).
#
#   bench/awards/sync-push.sh [writes per case, default 300] [nominees, default 300]
#
# Starts civic-ballot and civic-events-api on 127.0.0.1 (port 0, fresh data dirs, the ballot
# syncing every 5 s), makes two awards with one nomination and N nominees each: one whose voting
# has opened (each write is pushed to the ballot with the snapshot before it is answered) and
# one whose voting opens tomorrow (pushed in the background after the answer). Then PATCHes a
# nominee's summary W times in each, one at a time and then from 8 threads, and prints the
# latency of the writes (median, p90, p99, max) and how many answers said `applied` or `pending`.
# Everything stops by itself; the data dirs are removed. Release binaries from build/release.
set -euo pipefail
cd "$(dirname "$0")/../.."
writes="${1:-300}"
nominees="${2:-300}"
work="$(mktemp -d)"
admin="civ_$(head -c 24 /dev/urandom | base64 -w0 | tr '+/' '-_')"
ballot_admin="$(head -c 24 /dev/urandom | base64 -w0 | tr '+/' '-_')"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT
wait_url() {
  for _ in $(seq 200); do
    grep -q "listening on" "$1" 2>/dev/null && break
    sleep 0.1
  done
  grep -o 'http://[0-9.]*:[0-9]*' "$1"
}
# The ballot first (it learns the events API's URL through a file the events API's port fills).
CIVIC_BALLOT_VOTER_KEY="$(head -c 32 /dev/urandom | base64 -w0)" \
CIVIC_BALLOT_CLIENT_KEY="$(head -c 24 /dev/urandom | base64 -w0)" \
CIVIC_BALLOT_ADMIN_KEY="$ballot_admin" \
  build/release/services/ballot/civic-ballot --host 127.0.0.1 --port 0 --data-dir "$work/ballot" \
  --events-url http://127.0.0.1:9 --sync-interval-ms 5000 --log-level warn \
  >"$work/ballot.out" 2>"$work/ballot.err" &
pids+=($!)
ballot_url="$(wait_url "$work/ballot.out")"
CIVIC_EVENTS_ADMIN_KEY="$admin" CIVIC_EVENTS_BALLOT_ADMIN_KEY="$ballot_admin" \
  build/release/services/events-api/civic-events-api --host 127.0.0.1 --port 0 \
  --data-dir "$work/events" --ballot-url "$ballot_url" --synchronous normal --log-level warn \
  >"$work/events.out" 2>"$work/events.err" &
pids+=($!)
events_url="$(wait_url "$work/events.out")"
echo "ballot $ballot_url, events API $events_url; $(nproc) CPUs; commit $(git rev-parse --short HEAD)"

python3 - "$events_url" "$admin" "$writes" "$nominees" <<'PY'
import datetime, json, sys, threading, time, urllib.error, urllib.request
url, key, writes, nominees = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
def call(method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url + path, data=data, method=method, headers={
        "Authorization": "Bearer " + key, "Content-Type": "application/json",
        "Connection": "keep-alive"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read() or b"null"), r.headers.get("X-Civic-Ballot-Sync")
    except urllib.error.HTTPError as e:
        sys.exit(f"{method} {path}: {e.code} {e.read().decode()}")
def at(hours):
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=hours)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")
city = call("POST", "/v1/cities", {"name": "Саров", "region": "Нижегородская область",
                                    "time_zone": "Europe/Moscow"})[1]["id"]
def award(opens_in_hours):
    a = call("POST", "/v1/awards", {"title": "Новые Созидатели", "edition_year": 2026,
        "voting_opens_at": at(opens_in_hours), "voting_closes_at": at(48),
        "results_visibility": "live", "status": "published"})[1]["id"]
    n = call("POST", "/v1/nominations", {"award_id": a, "title": "Лидер изменений"})[1]["id"]
    ids = [call("POST", "/v1/nominees", {"nomination_id": n, "kind": "project",
        "project_title": f"Проект {i}", "name": f"Проект {i}", "city_id": city,
        "summary": ("Двор, который жители спроектировали сами. " * 4).strip()})[1]["id"]
        for i in range(nominees)]
    return ids
open_ids = award(-1)
later_ids = award(24)
def run(ids, threads, label):
    lat, outcome, lock = [], {}, threading.Lock()
    def worker(k):
        for i in range(k, writes, threads):
            t = time.perf_counter()
            _, _, sync = call("PATCH", f"/v1/nominees/{ids[i % len(ids)]}",
                              {"summary": f"Правка {label} {i}"})
            d = time.perf_counter() - t
            with lock:
                lat.append(d)
                outcome[sync] = outcome.get(sync, 0) + 1
    ts = [threading.Thread(target=worker, args=(k,)) for k in range(threads)]
    start = time.perf_counter()
    [t.start() for t in ts]; [t.join() for t in ts]
    wall = time.perf_counter() - start
    lat.sort()
    q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))] * 1000
    return wall, q(0.5), q(0.9), q(0.99), lat[-1] * 1000, outcome
print(f"{nominees} nominees per award, {writes} PATCHes per row")
print("| award | threads | writes/s | median ms | p90 ms | p99 ms | max ms | X-Civic-Ballot-Sync |")
print("|---|---|---|---|---|---|---|---|")
for name, ids in (("voting open: pushed before the answer", open_ids),
                  ("voting tomorrow: pushed after it", later_ids)):
    for threads in (1, 8):
        wall, p50, p90, p99, mx, outcome = run(ids, threads, threads)
        shown = ", ".join(f"{k or 'none'} {v}" for k, v in sorted(outcome.items(), key=str))
        print(f"| {name} | {threads} | {writes / wall:.0f} | {p50:.1f} | {p90:.1f} | {p99:.1f} "
              f"| {mx:.1f} | {shown} |")
PY
