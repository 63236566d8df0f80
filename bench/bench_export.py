"""Benchmark of ``darkcrawl export``: CPU time to turn alerts into MISP events, write the feed, build the STIX bundle
and validate it with stix2-validator, for growing numbers of alerts (no Elasticsearch: reading alerts is one search
per 500).

Run: ``.venv/bin/python bench/bench_export.py [--alerts 100 400 1600] [--repeat 3] [--json]``.

The alerts are the shapes of tests/export_samples.py (a clone alert, a wallet alert whose page has PGP, e-mail,
handles and vendor signals, two term alerts) repeated with distinct ids, one MISP event / STIX report per alert.
Reported per size, best of ``--repeat`` runs of ``time.process_time`` (the fair figure on a shared machine): seconds
for each stage and alerts per CPU second end to end, so the growth with size shows whether a stage is linear.
Results go in docs/performance.md ("Export").
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from crawler.export import cases as c
from crawler.export.misp import Producer, build_event, write_feed
from crawler.export.stix import build_bundle, bundle_json, validate
from tests import export_samples as samples


def make_alerts(count: int) -> list[dict[str, Any]]:
    alerts = []
    for number in range(count):
        alert = copy.deepcopy(samples.ALERTS[number % len(samples.ALERTS)])
        alert["alert_id"] = f"{number:064x}"
        if alert["page"]["id"] != samples.WALLET_PAGE["id"]:
            alert["page"] = {**alert["page"], "id": f"page-{number}"}
        alerts.append(alert)
    return alerts


def run_once(count: int) -> dict[str, float]:
    alerts, pages, producer = make_alerts(count), samples.pages(), Producer("Bench CERT")
    stages: dict[str, float] = {}
    started = time.process_time()
    cases = c.group_alerts(alerts, "alert")
    events = [build_event(case, producer, "amber", pages) for case in cases]
    stages["misp events"] = time.process_time() - started
    with tempfile.TemporaryDirectory() as directory:
        started = time.process_time()
        write_feed(events, Path(directory))
        stages["misp feed"] = time.process_time() - started
    started = time.process_time()
    text = bundle_json(build_bundle(cases, producer, "amber", pages))
    stages["stix bundle"] = time.process_time() - started
    started = time.process_time()
    validate(text)
    stages["stix validate"] = time.process_time() - started
    stages["bundle KiB"] = len(text.encode()) / 1024
    return stages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--alerts", type=int, nargs="+", default=[100, 400, 1600])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results = []
    for count in args.alerts:
        runs = [run_once(count) for _ in range(args.repeat)]
        best = {stage: min(run[stage] for run in runs) for stage in runs[0]}
        cpu = sum(value for stage, value in best.items() if stage != "bundle KiB")
        results.append({"alerts": count, **{k: round(v, 3) for k, v in best.items()},
                        "alerts per CPU second": round(count / cpu, 1)})
    if args.json:
        print(json.dumps(results, indent=2))
        return
    columns = list(results[0])
    print(" | ".join(columns))
    for row in results:
        print(" | ".join(str(row[column]) for column in columns))


if __name__ == "__main__":
    main()
