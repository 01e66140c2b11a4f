#!/usr/bin/env bash
# deploy/nginx.conf, tested with Debian's nginx on loopback (issue #31). Bounded: ~60 s at most.
# 1. As shipped: Debian's own /etc/nginx/nginx.conf (its conf.d include pointed at the shipped
#    file, unchanged; pid and error log in a temporary directory) passes `nginx -t` with a
#    throw-away certificate at the documented place, civic/tls/ beside the main nginx.conf.
# 2. Rendered for a run (a copy with loopback ports, the services' ports, logs in the temporary
#    directory, and an operators' allow list holding only 192.0.2.1), in front of both services:
#    redirect to HTTPS, votes, a gzip'd list, a live-results stream that arrives unbuffered, the
#    request id, problem+json 413, 403 (/metrics from an address not allowed), 502 (ballot
#    stopped), 504 (a ballot that never answers) and 429 (limit_req).
# Usage: check-nginx.sh EVENTS_API_BIN BALLOT_BIN
set -euo pipefail
events_bin="$1"
ballot_bin="$2"
shipped="$(cd "$(dirname "$0")/../../deploy" && pwd)/nginx.conf"
work="$(mktemp -d /tmp/civic-nginx.XXXXXX)"
chmod 755 "$work"
pids=()
nginx_conf=""
cleanup() {
  [ -n "$nginx_conf" ] && nginx -p "$work" -c "$nginx_conf" -s stop 2>/dev/null || true
  kill -TERM "${pids[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; [ -f "$work/error.log" ] && tail -20 "$work/error.log"; exit 1; }

# --- The throw-away certificate, for both names.
mkdir -p "$work/civic/tls"
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=events.example.org" \
  -addext "subjectAltName=DNS:events.example.org,DNS:vote.example.org" \
  -keyout "$work/civic/tls/privkey.pem" -out "$work/civic/tls/fullchain.pem" 2>/dev/null

# --- 1. nginx -t as shipped, inside Debian's main configuration.
sed -e "s|^pid .*|pid $work/nginx-t.pid;|" \
    -e "s|^error_log .*|error_log $work/error-t.log;|" \
    -e "s|include /etc/nginx/conf.d/\*.conf;|include $shipped;|" \
    /etc/nginx/nginx.conf >"$work/nginx.conf"
grep -q "include $shipped;" "$work/nginx.conf" || fail "Debian's nginx.conf has no conf.d include"
if [ ! -w /var/log/nginx ]; then
  # Not root: only the log paths (Debian's and the shipped file's) move to the temporary directory.
  sed -i "s|/var/log/nginx/|$work/|" "$work/nginx.conf"
  sed "s|/var/log/nginx/|$work/|" "$shipped" >"$work/shipped-logs.conf"
  sed -i "s|include $shipped;|include $work/shipped-logs.conf;|" "$work/nginx.conf"
fi
nginx -t -q -p "$work" -c "$work/nginx.conf" || fail "nginx -t on the shipped configuration"

# --- The services, on free loopback ports.
key() { printf 'civ_%s' "$(head -c 24 /dev/urandom | base64 -w0 | tr '+/' '-_')"; }
admin_key="$(key)"; client_key="$(key)"; ballot_admin_key="$(key)"
start() {  # name, then the command: waits for its "listening on" line
  local name="$1"; shift
  "$@" >"$work/$name.out" 2>"$work/$name.err" &
  pids+=($!)
  for _ in $(seq 1 200); do
    grep -q "listening on" "$work/$name.out" 2>/dev/null && return 0
    sleep 0.05
  done
  echo "$name did not start"; cat "$work/$name.err"; exit 1
}
port_of() { grep -o '127.0.0.1:[0-9]*' "$work/$1.out" | sed -n '1s/.*://p'; }
CIVIC_EVENTS_ADMIN_KEY="$admin_key" CIVIC_EVENTS_BALLOT_ADMIN_KEY="$ballot_admin_key" \
  start events "$events_bin" --host 127.0.0.1 --port 0 --data-dir "$work/events" \
  --trusted-proxies 127.0.0.1,::1
events_port=$(port_of events)
CIVIC_BALLOT_VOTER_KEY="$(key)" CIVIC_BALLOT_CLIENT_KEY="$client_key" \
  CIVIC_BALLOT_ADMIN_KEY="$ballot_admin_key" \
  start ballot "$ballot_bin" --host 127.0.0.1 --port 0 --data-dir "$work/ballot" \
  --trusted-proxies 127.0.0.1,::1 \
  --events-url "http://127.0.0.1:$events_port" --sync-interval-ms 200
ballot_port=$(port_of ballot)
ballot_pid=${pids[-1]}

# --- 2. The rendered copy and a main configuration that needs no root paths.
https_port=$((20000 + RANDOM % 20000)); http_port=$((https_port + 1))
sed -e "s|listen 443 ssl http2;|listen 127.0.0.1:$https_port ssl http2;|" \
    -e "/listen \[::\]/d" \
    -e "s|listen 80;|listen 127.0.0.1:$http_port;|" \
    -e "s|server 127.0.0.1:8080;|server 127.0.0.1:$events_port;|" \
    -e "s|server 127.0.0.1:8081;|server 127.0.0.1:$ballot_port;|" \
    -e "s|/var/log/nginx/|$work/|" \
    -e "s|^proxy_read_timeout 30s;|proxy_read_timeout 2s;|" \
    -e "s|^  127.0.0.1    1;|  192.0.2.1    1;|" \
    -e "/^  ::1          1;/d" \
    -e "/^  10.0.0.0\/8   1;/d" \
    "$shipped" >"$work/civic.conf"
cat >"$work/run.conf" <<CONF
user $(id -un) $(id -gn);
worker_processes 1;
pid $work/nginx.pid;
error_log $work/error.log;
events { worker_connections 512; }
http {
  include /etc/nginx/mime.types;
  default_type application/octet-stream;
  access_log $work/access.log;
  client_body_temp_path $work/temp-body;
  proxy_temp_path $work/temp-proxy;
  fastcgi_temp_path $work/temp-fastcgi;
  uwsgi_temp_path $work/temp-uwsgi;
  scgi_temp_path $work/temp-scgi;
  include $work/civic.conf;
}
CONF
nginx -t -q -p "$work" -c "$work/run.conf" || fail "nginx -t on the rendered copy"
nginx -p "$work" -c "$work/run.conf"
nginx_conf="$work/run.conf"
for _ in $(seq 1 100); do
  [ -s "$work/nginx.pid" ] && break
  sleep 0.05
done

resolve=(--resolve "events.example.org:$https_port:127.0.0.1" --resolve "vote.example.org:$https_port:127.0.0.1")
events_url="https://events.example.org:$https_port"
vote_url="https://vote.example.org:$https_port"
c() { curl -sk --max-time 10 "${resolve[@]}" "$@"; }
admin=(-H "Authorization: Bearer $admin_key" -H "Content-Type: application/json")
json_field() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
# An answer's status, Content-Type and body: "STATUS TYPE" on the first line, then the body.
answer() { c -o "$work/body" -w '%{http_code} %{content_type}\n' "$@"; cat "$work/body"; }
expect_problem() {  # status, then the curl arguments
  local status="$1"; shift
  local got; got=$(answer "$@")
  local head; head=$(head -1 <<<"$got")
  [ "$head" = "$status application/problem+json" ] || fail "expected a $status problem, got: $got"
  [ "$(tail -n +2 <<<"$got" | json_field "['status']")" = "$status" ] ||
    fail "the $status problem's body: $got"
}

# HTTP goes to HTTPS.
redirect=$(curl -s --max-time 5 -o /dev/null -w '%{http_code} %{redirect_url}' \
  -H "Host: events.example.org" "http://127.0.0.1:$http_port/v1/cities?limit=1")
[ "$redirect" = "301 https://events.example.org/v1/cities?limit=1" ] || fail "redirect: $redirect"

# An award with a nominee, made through nginx; the ballot learns it.
city=$(c "${admin[@]}" -d '{"name":"Саров","time_zone":"Europe/Moscow"}' "$events_url/v1/cities" | json_field "['id']")
opens=$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%SZ); closes=$(date -u -d '+1 hour' +%Y-%m-%dT%H:%M:%SZ)
award=$(c "${admin[@]}" -d "{\"title\":\"Новые Созидатели\",\"edition_year\":2026,\"voting_opens_at\":\"$opens\",\"voting_closes_at\":\"$closes\",\"results_visibility\":\"live\",\"status\":\"published\"}" \
  "$events_url/v1/awards" | json_field "['id']")
nomination=$(c "${admin[@]}" -d "{\"award_id\":$award,\"title\":\"Лидер изменений\"}" "$events_url/v1/nominations" | json_field "['id']")
nominee=$(c "${admin[@]}" -d "{\"nomination_id\":$nomination,\"kind\":\"project\",\"project_title\":\"Двор\",\"name\":\"Двор\",\"city_id\":$city}" \
  "$events_url/v1/nominees" | json_field "['id']")
# A nominee's photo over the 64 KiB of other bodies passes (up to 2 MiB); a larger one is nginx's 413.
[ "$(c "${admin[@]}" -X PATCH -o /dev/null -w '%{http_code}' -d '{"photo_alt":"Двор"}' \
  "$events_url/v1/nominees/$nominee")" = 200 ] || fail "photo_alt"
{ printf '\xFF\xD8\xFF\xE0'; head -c 300000 /dev/zero; } >"$work/photo.jpg"
[ "$(c -X PUT -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $admin_key" \
  -H "Content-Type: image/jpeg" --data-binary "@$work/photo.jpg" \
  "$events_url/v1/nominees/$nominee/photo")" = 200 ] || fail "a 300 KB photo through nginx"
head -c 2200000 /dev/zero >"$work/big-photo"
expect_problem 413 -X PUT -H "Authorization: Bearer $admin_key" -H "Content-Type: image/jpeg" \
  --data-binary "@$work/big-photo" "$events_url/v1/nominees/$nominee/photo"
for _ in $(seq 1 100); do
  [ "$(c -o /dev/null -w '%{http_code}' "$vote_url/v1/awards/$award/results")" = 200 ] && break
  sleep 0.1
done

# The live-results stream, read while votes arrive: each event comes through as it is written.
c -N -H "Accept: text/event-stream" "$vote_url/v1/awards/$award/results/stream" >"$work/stream" &
stream_pid=$!
vote() {  # voter: prints the status
  c -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $client_key" \
    -H "Content-Type: application/json" \
    -d "{\"voter\":\"$1\",\"nomination\":$nomination,\"nominee\":$nominee}" \
    "$vote_url/v1/awards/$award/votes"
}
for _ in $(seq 1 150); do grep -q '^data:' "$work/stream" 2>/dev/null && break; sleep 0.1; done
[ "$(grep -c '^data:' "$work/stream")" -ge 1 ] || fail "no first event on the stream"
for i in 1 2 3; do
  [ "$(vote "resident-$i")" = 201 ] || fail "vote $i was not counted"
done
for _ in $(seq 1 150); do grep -q '"votes":3' "$work/stream" 2>/dev/null && break; sleep 0.1; done
grep -q '"votes":3' "$work/stream" || fail "the stream did not show the votes while open: $(cat "$work/stream")"
kill "$stream_pid" 2>/dev/null || true

# The request id: the caller's is passed on and echoed; without one, nginx's goes to the service.
rid=$(c -D - -o /dev/null -H "X-Request-Id: edge-check-1" "$vote_url/v1/awards/$award/results" |
  tr -d '\r' | sed -n 's/^x-request-id: //Ip')
[ "$rid" = "edge-check-1" ] || fail "X-Request-Id not echoed: $rid"
made=$(c -D - -o /dev/null -H "X-Request-Id: not safe;" "$events_url/v1/cities" | tr -d '\r' |
  sed -n 's/^x-request-id: //Ip')
[[ "$made" =~ ^[0-9a-f]{32}$ ]] || fail "no request id made: $made"
for _ in $(seq 1 20); do grep -q "request_id=$made" "$work/events.out" && break; sleep 0.1; done
grep -q "request_id=$made" "$work/events.out" || fail "the events API did not log nginx's request id"
grep -q "request_id=edge-check-1" "$work/ballot.out" || sleep 0.3
grep -q "request_id=edge-check-1" "$work/ballot.out" || fail "the ballot did not log the request id"

# A list, gzip'd when asked for (and only then).
for i in $(seq 1 20); do
  c "${admin[@]}" -o /dev/null -d "{\"name\":\"Город номер $i с длинным названием\",\"time_zone\":\"Asia/Yakutsk\"}" "$events_url/v1/cities"
done
gz=$(c -D - -o "$work/list.gz" -H "Accept-Encoding: gzip" "$events_url/v1/cities?limit=50" | tr -d '\r')
grep -qi '^content-encoding: gzip' <<<"$gz" || fail "the list was not gzip'd: $gz"
[ "$(gzip -dc "$work/list.gz" | json_field "['items'].__len__()")" = 21 ] || fail "the gzip'd list"
plain=$(c -D - -o /dev/null "$events_url/v1/cities?limit=50" | tr -d '\r')
grep -qi '^content-encoding' <<<"$plain" && fail "gzip'd without being asked"

# nginx's own errors are problem+json: a body over the cap, an operators' route from an address
# not on the allow list.
head -c 2000000 /dev/zero | tr '\0' 'x' >"$work/big"
expect_problem 413 "${admin[@]}" --data-binary "@$work/big" "$events_url/v1/cities"
expect_problem 413 -H "Content-Type: application/json" --data-binary "@$work/big" "$vote_url/v1/votes/batch"
expect_problem 403 "$events_url/metrics"
expect_problem 403 "$vote_url/readyz"
expect_problem 403 -H "Authorization: Bearer $ballot_admin_key" "$events_url/v1/sync/awards"
# ... while the services' own problems pass through untouched (the ballot's 404).
[ "$(c -o /dev/null -w '%{http_code} %{content_type}' "$vote_url/v1/awards/999999/results")" = \
  "404 application/problem+json" ] || fail "the ballot's own 404"

# limit_req: a burst of 200 votes from one address over 10 r/s + 50 gets 429s, as problem+json.
mkdir -p "$work/burst"
transfers=(); for i in $(seq 1 200); do transfers+=("$vote_url/v1/awards/$award/votes" -o "$work/burst/$i"); done
vote_args=(-H "Authorization: Bearer $client_key" -H "Content-Type: application/json"
  -d "{\"voter\":\"burst\",\"nomination\":$nomination,\"nominee\":$nominee}")
codes=$(c --no-progress-meter --parallel --parallel-max 100 -w '%{http_code} %{content_type}\n' \
  "${vote_args[@]}" "${transfers[@]}")
limited=$(grep -c '^429 application/problem+json$' <<<"$codes" || true)
[ "$limited" -gt 0 ] || fail "no 429 problem in a burst of 200 votes: $(sort <<<"$codes" | uniq -c)"
body=""
for f in "$work"/burst/*; do grep -q '"status":429' "$f" && { body="$f"; break; }; done
[ -n "$body" ] && [ "$(json_field "['title']" <"$body")" = "Too Many Requests" ] ||
  fail "the 429 body: $(cat "${body:-/dev/null}")"

# The ballot stopped: nginx answers 502 as problem+json, with a request id.
kill -TERM "$ballot_pid"; wait "$ballot_pid" 2>/dev/null || true
expect_problem 502 "$vote_url/v1/awards/$award/results"
stopped=$(c -D - -o /dev/null -H "X-Request-Id: edge-502" "$vote_url/v1/awards/$award/results" |
  tr -d '\r' | sed -n 's/^x-request-id: //Ip')
[ "$stopped" = "edge-502" ] || fail "nginx's 502 did not carry the request id: $stopped"

# A ballot that takes connections and never answers (a listener that accepts nothing): 504
# once the read timeout (2 s in this copy) has passed.
python3 -c "import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', $ballot_port)); s.listen(64); open('$work/blackhole.ready', 'w').close()
time.sleep(30)" &
pids+=($!)
for _ in $(seq 1 100); do [ -e "$work/blackhole.ready" ] && break; sleep 0.05; done
expect_problem 504 "$vote_url/v1/awards/$award/results"

echo "nginx: nginx -t as shipped; redirect, votes, stream, gzip, request id, 413, 403, 429, 502, 504 OK"
