#!/usr/bin/python3
"""Reads every calendar feed of the events API with an independent parser, Debian's
python3-icalendar, and checks the instants.

Starts the built events API on 127.0.0.1, port 0, with a temporary data directory; sets up
through its HTTP API the seeds' places (Якутск, Саров, Заречный) with events at 10:00 local time
next year, a session, an event in Moscow's summer time of 2010 (UTC+4 then, UTC+3 now), a person
with registrations and a feed token; then fetches each feed (an event's, a program's, a city's,
the person's by key and by token) and checks:
  - the bytes: CRLF line ends, no line over 75 octets, each line valid UTF-8;
  - that python3-icalendar parses it, every TZID used has its VTIMEZONE, and each event lands
    where it must: 10:00 Asia/Yakutsk is 01:00Z, 10:00 Europe/Moscow 07:00Z, 10:00
    Asia/Yekaterinburg 05:00Z, 10:00 Moscow on 1 July 2010 06:00Z -- read both through the
    VTIMEZONE the feed carries (icalendar's Timezone.to_tz) and through the zone's name (pytz, as
    programs that ignore VTIMEZONE do);
  - text round-trips (escaped ; , \\ and line breaks), STATUS:CANCELLED for a cancelled event,
    and a feed holds exactly the events it should.
Usage: check-feeds.py EVENTS_API_BIN. Exits non-zero naming every failure. Bounded: ~10 s.
"""
import datetime
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

import icalendar
import pytz

ADMIN_KEY = "civ_calendar-check-admin-key-0123456789"
UTC = datetime.timezone.utc
failures = []


def fail(message):
    failures.append(message)
    print("FAIL: " + message)


class Api:
    def __init__(self, base):
        self.base = base

    def call(self, method, path, body=None, key=ADMIN_KEY):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, method=method)
        if key:
            request.add_header("Authorization", "Bearer " + key)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                return answer.status, answer.headers, answer.read()
        except urllib.error.HTTPError as error:
            return error.code, error.headers, error.read()

    def create(self, path, body):
        status, _, raw = self.call("POST", path, body)
        if status not in (200, 201):
            raise RuntimeError("POST %s answered %d: %s" % (path, status, raw.decode()))
        return json.loads(raw)

    def feed(self, path, key=ADMIN_KEY):
        status, headers, raw = self.call("GET", path, key=key)
        if status != 200:
            raise RuntimeError("GET %s answered %d: %s" % (path, status, raw.decode()))
        if headers.get("Content-Type") != "text/calendar; charset=utf-8":
            fail("%s: Content-Type %r" % (path, headers.get("Content-Type")))
        return raw


def check_bytes(name, raw):
    if not raw.endswith(b"\r\n"):
        fail(name + ": does not end in CRLF")
    for number, line in enumerate(raw.split(b"\r\n")[:-1], 1):
        if b"\n" in line or b"\r" in line:
            fail("%s line %d: a bare CR or LF" % (name, number))
        if len(line) > 75:
            fail("%s line %d: %d octets" % (name, number, len(line)))
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            fail("%s line %d: not whole UTF-8 (folded inside a character?)" % (name, number))


def read(name, raw):
    """The parsed calendar and {uid: (vevent, start instant, end instant)}, checked."""
    check_bytes(name, raw)
    calendar = icalendar.Calendar.from_ical(raw)
    zones = {str(tz["TZID"]): tz.to_tz() for tz in calendar.walk("VTIMEZONE")}
    events = {}
    for vevent in calendar.walk("VEVENT"):
        uid = str(vevent["UID"])
        instants = []
        for prop in ("DTSTART", "DTEND"):
            value = vevent[prop]
            moment = value.dt
            tzid = value.params.get("TZID")
            if tzid is not None:
                if tzid not in zones:
                    fail("%s %s: %s names TZID %s without a VTIMEZONE" % (name, uid, prop, tzid))
                    continue
                naive = moment.replace(tzinfo=None)
                by_vtimezone = zones[tzid].localize(naive).astimezone(UTC)
                by_name = pytz.timezone(tzid).localize(naive).astimezone(UTC)
                if by_vtimezone != by_name:
                    fail("%s %s %s: the VTIMEZONE gives %s, the zone's name %s"
                         % (name, uid, prop, by_vtimezone, by_name))
                instants.append(by_vtimezone)
            else:
                if moment.tzinfo is None:
                    fail("%s %s: %s is a floating time" % (name, uid, prop))
                    continue
                instants.append(moment.astimezone(UTC))
        for required in ("DTSTAMP", "SUMMARY", "STATUS", "LAST-MODIFIED", "SEQUENCE"):
            if required not in vevent:
                fail("%s %s: no %s" % (name, uid, required))
        if len(instants) == 2:
            events[uid] = (vevent, instants[0], instants[1])
    return calendar, events


def expect(name, events, uid, start, end=None, summary=None, status="CONFIRMED"):
    if uid not in events:
        fail("%s: %s is missing" % (name, uid))
        return
    vevent, got_start, got_end = events[uid]
    if got_start != start:
        fail("%s %s: starts at %s, not %s" % (name, uid, got_start, start))
    if end is not None and got_end != end:
        fail("%s %s: ends at %s, not %s" % (name, uid, got_end, end))
    if summary is not None and str(vevent["SUMMARY"]) != summary:
        fail("%s %s: SUMMARY %r, not %r" % (name, uid, str(vevent["SUMMARY"]), summary))
    if str(vevent["STATUS"]) != status:
        fail("%s %s: STATUS %s, not %s" % (name, uid, vevent["STATUS"], status))


def exactly(name, events, uids):
    if set(events) != set(uids):
        fail("%s holds %s, not %s" % (name, sorted(events), sorted(uids)))


def utc(*fields):
    return datetime.datetime(*fields, tzinfo=UTC)


def main():
    binary = sys.argv[1]
    work = tempfile.mkdtemp(prefix="civic-calendar.")
    out = open(os.path.join(work, "out"), "w+")
    err = open(os.path.join(work, "err"), "w+")
    env = dict(os.environ, CIVIC_EVENTS_ADMIN_KEY=ADMIN_KEY,
               CIVIC_EVENTS_RATE_LIMITS="off")
    service = subprocess.Popen(
        [binary, "--host", "127.0.0.1", "--port", "0", "--data-dir", os.path.join(work, "data")],
        stdout=out, stderr=err, env=env)
    try:
        base = None
        for _ in range(200):
            out.seek(0)
            found = re.search(r"listening on (http://127\.0\.0\.1:\d+)", out.read())
            if found:
                base = found.group(1)
                break
            if service.poll() is not None:
                break
            time.sleep(0.05)
        if base is None:
            err.seek(0)
            print("the events API did not start: " + err.read())
            return 1
        run(Api(base))
    finally:
        service.terminate()
        try:
            service.wait(timeout=20)
        except subprocess.TimeoutExpired:
            service.kill()
        shutil.rmtree(work, ignore_errors=True)
    if failures:
        print("%d failure(s)" % len(failures))
        return 1
    print("every feed parsed by python3-icalendar %s; every instant as expected"
          % icalendar.__version__)
    return 0


def run(api):
    year = datetime.datetime.now(UTC).year + 1
    y = str(year)
    yakutsk = api.create("/v1/cities", {"name": "Якутск", "region": "Республика Саха (Якутия)",
                                        "time_zone": "Asia/Yakutsk"})["id"]
    sarov = api.create("/v1/cities", {"name": "Саров", "region": "Нижегородская область",
                                      "time_zone": "Europe/Moscow"})["id"]
    zarechny = api.create("/v1/cities", {"name": "Заречный", "region": "Свердловская область",
                                         "time_zone": "Asia/Yekaterinburg"})["id"]
    program = api.create("/v1/programs", {"title": "Добрые города", "kind": "accelerator",
                                          "starts_on": "2026-09-01"})["id"]

    def event(title, city, start, end, status="published", description=""):
        return api.create("/v1/events", {
            "kind": "forum", "title": title, "description": description, "program_id": program,
            "city_id": city, "venue": "Дом культуры; зал «Атом», 2 этаж", "starts_at": start,
            "ends_at": end, "status": status})["id"]

    school_title = "Школа ТОС; кейс-сессия, день 1 \\ «Якутск 4.0.0 Старт» " + "ж" * 40
    school = event(school_title, yakutsk, y + "-09-08T10:00:00+09:00",
                   y + "-09-08T18:00:00+09:00",
                   description="Строка 1\nСтрока 2, с запятой; и точкой с запятой")
    seminar = event("Семинар лидеров атомных городов", sarov, y + "-03-05T10:00:00+03:00",
                    y + "-03-05T17:00:00+03:00")
    rally = event("Слёт «Заречный»", zarechny, y + "-06-10T10:00:00+05:00",
                  y + "-06-11T18:00:00+05:00")
    cancelled = event("Отменённый форум", sarov, y + "-04-01T10:00:00+03:00",
                      y + "-04-01T12:00:00+03:00")
    api.call("PATCH", "/v1/events/%d" % cancelled, {"status": "cancelled"})
    draft = event("Черновик", sarov, y + "-04-02T10:00:00+03:00", y + "-04-02T12:00:00+03:00",
                  status="draft")
    summer_2010 = event("Летний форум 2010", sarov, "2010-07-01T10:00:00+04:00",
                        "2010-07-01T18:00:00+04:00")
    session = api.create("/v1/sessions", {
        "event_id": school, "kind": "case_session", "title": "Кейс-сессия, 2 часа",
        "room": "Зал 2", "starts_at": y + "-09-08T14:00:00+09:00",
        "ends_at": y + "-09-08T16:00:00+09:00"})["id"]
    person = api.create("/v1/people", {"name": "Айаал Сивцев", "city_id": yakutsk})["id"]
    for registered in (school, rally):
        api.create("/v1/events/%d/registrations" % registered, {"person_id": person})
    api.create("/v1/sessions/%d/registrations" % session, {"person_id": person})
    token = api.create("/v1/people/%d/calendar-feed" % person, {})["token"]

    uid = lambda kind, id: "%s-%d@civic-platform" % (kind, id)
    school_at = (utc(year, 9, 8, 1), utc(year, 9, 8, 9))  # 10:00 and 18:00 at UTC+9
    session_at = (utc(year, 9, 8, 5), utc(year, 9, 8, 7))
    seminar_at = (utc(year, 3, 5, 7), utc(year, 3, 5, 14))  # UTC+3
    rally_at = (utc(year, 6, 10, 5), utc(year, 6, 11, 13))  # UTC+5
    cancelled_at = (utc(year, 4, 1, 7), utc(year, 4, 1, 9))

    name = "event feed"
    _, events = read(name, api.feed("/v1/events/%d/calendar.ics" % school, key=None))
    exactly(name, events, [uid("event", school), uid("session", session)])
    expect(name, events, uid("event", school), *school_at, summary=school_title)
    expect(name, events, uid("session", session), *session_at, summary="Кейс-сессия, 2 часа")
    vevent = events[uid("event", school)][0] if uid("event", school) in events else {}
    if str(vevent.get("DESCRIPTION")) != "Строка 1\nСтрока 2, с запятой; и точкой с запятой":
        fail("%s: DESCRIPTION %r" % (name, str(vevent.get("DESCRIPTION"))))
    if str(vevent.get("LOCATION")) != "Дом культуры; зал «Атом», 2 этаж, Якутск":
        fail("%s: LOCATION %r" % (name, str(vevent.get("LOCATION"))))

    name = "event feed of 2010 (Moscow summer time, UTC+4 then)"
    _, events = read(name, api.feed("/v1/events/%d/calendar.ics" % summer_2010, key=None))
    expect(name, events, uid("event", summer_2010), utc(2010, 7, 1, 6), utc(2010, 7, 1, 14))

    name = "program feed"
    _, events = read(name, api.feed("/v1/programs/%d/calendar.ics" % program, key=None))
    exactly(name, events, [uid("event", e) for e in (school, seminar, rally, cancelled)])
    expect(name, events, uid("event", school), *school_at)
    expect(name, events, uid("event", seminar), *seminar_at)
    expect(name, events, uid("event", rally), *rally_at)
    expect(name, events, uid("event", cancelled), *cancelled_at, status="CANCELLED")

    name = "program feed with the admin's key"
    _, events = read(name, api.feed("/v1/programs/%d/calendar.ics" % program))
    expect(name, events, uid("event", draft), utc(year, 4, 2, 7))

    for city, expected in ((yakutsk, {school: school_at}), (zarechny, {rally: rally_at}),
                           (sarov, {seminar: seminar_at, cancelled: cancelled_at})):
        name = "city feed %d" % city
        _, events = read(name, api.feed("/v1/cities/%d/calendar.ics" % city, key=None))
        exactly(name, events, [uid("event", e) for e in expected])
        for e, at in expected.items():
            expect(name, events, uid("event", e), *at,
                   status="CANCELLED" if e == cancelled else "CONFIRMED")

    for name, path, key in (("person feed (admin key)", "/v1/people/%d/calendar.ics" % person,
                             ADMIN_KEY),
                            ("person feed (token)", "/v1/calendar-feeds/" + token, None)):
        _, events = read(name, api.feed(path, key=key))
        exactly(name, events, [uid("event", school), uid("event", rally), uid("session", session)])
        expect(name, events, uid("event", school), *school_at)
        expect(name, events, uid("event", rally), *rally_at)
        expect(name, events, uid("session", session), *session_at)


if __name__ == "__main__":
    sys.exit(main())
