#!/usr/bin/python3
"""What a calendar feed costs to serve (issue #28), against the JSON of the same events.

    bench/calendar/feeds.py [EVENTS] [ROUNDS]      (defaults 1000 and 30)

Starts build/release's civic-events-api on 127.0.0.1 (port 0, a fresh data dir, rate limits
off), makes one program with EVENTS published events in two zones (Якутск, Саров), each with two
sessions, then ROUNDS times, on one keep-alive connection, without a key:
  - GET /v1/programs/{id}/calendar.ics (every event: one iCalendar of EVENTS VEVENTs), and as the
    baseline the same events as JSON, GET /v1/events?program_id=..&limit=100 page after page;
  - GET /v1/events/{id}/calendar.ics (one event, its two sessions and its zone's VTIMEZONE)
    against GET /v1/events/{id}.
Prints the median and p90 of each, and the ratios. Everything stops by itself; the data dir is
removed.
"""
import http.client
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ADMIN = "civ_bench-calendar-admin-key-0123456789ab"


def main():
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 30
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
    binary = os.path.join(root, "build/release/services/events-api/civic-events-api")
    work = tempfile.mkdtemp(prefix="civic-bench-calendar.")
    out = open(os.path.join(work, "out"), "w+")
    env = dict(os.environ, CIVIC_EVENTS_ADMIN_KEY=ADMIN, CIVIC_EVENTS_RATE_LIMITS="off")
    service = subprocess.Popen(
        [binary, "--host", "127.0.0.1", "--port", "0", "--data-dir", os.path.join(work, "data"),
         "--synchronous", "normal", "--access-log", "off", "--log-level", "warn"],
        stdout=out, stderr=subprocess.DEVNULL, env=env)
    try:
        port = None
        for _ in range(200):
            out.seek(0)
            found = re.search(r"127\.0\.0\.1:(\d+)", out.read())
            if found:
                port = int(found.group(1))
                break
            time.sleep(0.05)
        run(port, count, rounds)
    finally:
        service.terminate()
        service.wait(timeout=20)
        shutil.rmtree(work, ignore_errors=True)


def run(port, count, rounds):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def call(method, path, body=None, key=ADMIN):
        headers = {"Connection": "keep-alive"}
        if key:
            headers["Authorization"] = "Bearer " + key
        data = None
        if body is not None:
            data = json.dumps(body)
            headers["Content-Type"] = "application/json"
        connection.request(method, path, body=data, headers=headers)
        answer = connection.getresponse()
        raw = answer.read()
        if answer.status >= 300:
            raise RuntimeError("%s %s: %d %s" % (method, path, answer.status, raw[:300]))
        return raw

    year = time.gmtime().tm_year + 1
    cities = [json.loads(call("POST", "/v1/cities", {"name": n, "time_zone": z}))["id"]
              for n, z in (("Якутск", "Asia/Yakutsk"), ("Саров", "Europe/Moscow"))]
    program = json.loads(call("POST", "/v1/programs", {
        "title": "Добрые города", "kind": "accelerator", "starts_on": "2026-09-01"}))["id"]
    started = time.monotonic()
    first = None
    for i in range(count):
        day = 1 + i % 28
        month = 1 + (i // 28) % 12
        offset = "+09:00" if i % 2 == 0 else "+03:00"
        date = "%d-%02d-%02d" % (year, month, day)
        event = json.loads(call("POST", "/v1/events", {
            "kind": "seminar", "title": "Семинар %d; модуль, день %d" % (i, day),
            "description": "Программа дня:\nпленарное заседание, секции", "program_id": program,
            "city_id": cities[i % 2], "venue": "Дом культуры", "starts_at": date + "T10:00:00" +
            offset, "ends_at": date + "T18:00:00" + offset, "status": "published"}))["id"]
        first = first or event
        for hour in (11, 14):
            call("POST", "/v1/sessions", {
                "event_id": event, "kind": "section", "title": "Секция %d" % hour,
                "starts_at": "%sT%d:00:00%s" % (date, hour, offset),
                "ends_at": "%sT%d:30:00%s" % (date, hour, offset)})
    print("filled %d events with 2 sessions each in %.1f s" % (count, time.monotonic() - started))

    def timed(fn):
        samples = []
        size = 0
        for _ in range(rounds):
            begin = time.perf_counter()
            size = fn()
            samples.append((time.perf_counter() - begin) * 1000)
        samples.sort()
        return statistics.median(samples), samples[int(len(samples) * 0.9) - 1], size

    def feed():
        return len(call("GET", "/v1/programs/%d/calendar.ics" % program, key=None))

    def pages():
        size = 0
        path = "/v1/events?program_id=%d&limit=100" % program
        while path:
            raw = call("GET", path, key=None)
            size += len(raw)
            # The cursor without parsing the page: the client's JSON parse is not the server's cost.
            found = re.search(rb'"next":"([^"]+)"', raw)
            cursor = found.group(1).decode() if found else None
            path = ("/v1/events?program_id=%d&limit=100&cursor=%s" % (program, cursor)
                    if cursor else None)
        return size

    def event_feed():
        return len(call("GET", "/v1/events/%d/calendar.ics" % first, key=None))

    def event_json():
        return len(call("GET", "/v1/events/%d" % first, key=None))

    results = [("program feed, %d events (text/calendar)" % count, timed(feed)),
               ("baseline: the same events as JSON, pages of 100", timed(pages)),
               ("one event's feed, with its 2 sessions", timed(event_feed)),
               ("baseline: GET /v1/events/{id}", timed(event_json))]
    for name, (median, p90, size) in results:
        print("%-52s median %8.2f ms  p90 %8.2f ms  %8d bytes" % (name, median, p90, size))
    print("ratio program feed / JSON pages: %.2f" % (results[0][1][0] / results[1][1][0]))
    print("ratio event feed / event JSON:   %.2f" % (results[2][1][0] / results[3][1][0]))


if __name__ == "__main__":
    main()
