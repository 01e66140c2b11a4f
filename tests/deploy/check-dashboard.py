#!/usr/bin/env python3
"""Checks a Grafana dashboard JSON model and runs every panel query against Prometheus.

Usage: check-dashboard.py DASHBOARD.json PROMETHEUS_API_URL [REQUIRED_EXPR...]

The dashboard must be importable: a uid, a title, panels (rows apart) each with a Prometheus
datasource (a templated `datasource` variable or the `${DS_PROMETHEUS}` input) and at least one
target with an `expr`, unique panel ids. Every expr is sent to GET /api/v1/query; any error
fails. A REQUIRED_EXPR (one of the dashboard's) must also return at least one series, retried
for up to 30 s (rates need two scrapes). Exits non-zero with a message naming the panel.
"""
import json
import sys
import time
import urllib.parse
import urllib.request


def fail(message):
    print("dashboard: " + message)
    sys.exit(1)


def query(api, expr):
    url = api + "/query?" + urllib.parse.urlencode({"query": expr})
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return json.load(answer)
    except urllib.error.HTTPError as e:  # 400/422: the body says why
        return json.load(e)


def main():
    path, api, required = sys.argv[1], sys.argv[2].rstrip("/"), sys.argv[3:]
    with open(path, encoding="utf-8") as f:
        board = json.load(f)
    for member in ("uid", "title", "panels"):
        if not board.get(member):
            fail(f"no {member}")
    variables = {v.get("name"): v for v in board.get("templating", {}).get("list", [])}
    inputs = {i.get("name") for i in board.get("__inputs", [])}
    sources = set()
    if variables.get("datasource", {}).get("type") == "datasource" and \
            variables["datasource"].get("query") == "prometheus":
        sources.add("${datasource}")
    if "DS_PROMETHEUS" in inputs:
        sources.add("${DS_PROMETHEUS}")
    if not sources:
        fail("no Prometheus datasource variable or DS_PROMETHEUS input")

    panels = []
    for panel in board["panels"]:
        panels.append(panel)
        panels.extend(panel.get("panels", []))  # panels inside collapsed rows
    ids = [p.get("id") for p in panels]
    if len(ids) != len(set(ids)) or None in ids:
        fail("panel ids missing or repeated")
    exprs = []
    for panel in panels:
        if panel.get("type") == "row":
            continue
        title = panel.get("title") or fail(f"panel {panel.get('id')} has no title")
        if "gridPos" not in panel:
            fail(f"panel '{title}' has no gridPos")
        ds = panel.get("datasource") or {}
        if ds.get("type") != "prometheus" or ds.get("uid") not in sources:
            fail(f"panel '{title}' has datasource {ds}, not the Prometheus variable or input")
        targets = panel.get("targets") or fail(f"panel '{title}' has no targets")
        for target in targets:
            expr = target.get("expr") or fail(f"panel '{title}' has a target without expr")
            if "$" in expr:
                fail(f"panel '{title}': {expr} uses a Grafana variable this check cannot evaluate")
            exprs.append((title, expr))
    for expr in required:
        if expr not in [e for _, e in exprs]:
            fail(f"no panel queries {expr}")

    for title, expr in exprs:
        answer = query(api, expr)
        if answer.get("status") != "success":
            fail(f"panel '{title}': {expr}: {answer.get('errorType')}: {answer.get('error')}")
    for expr in required:
        deadline = time.monotonic() + 30
        while not query(api, expr).get("data", {}).get("result"):
            if time.monotonic() > deadline:
                fail(f"{expr} returned no series")
            time.sleep(0.5)
    print(f"dashboard: {len(panels)} panels, {len(exprs)} queries answered without an error; "
          f"{', '.join(required) or 'nothing'} returned series")


if __name__ == "__main__":
    main()
