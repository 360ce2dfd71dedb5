#!/usr/bin/env python
"""Print Markdown tables of the figures ``bench/run.py --out`` wrote (for bench/README.md).

    python bench/report.py bench/results/sqlite.json bench/results/postgresql.json
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from run import verdicts  # bench/run.py: the same reading of the targets as its printout


def verdict(page: dict) -> str:
    found = verdicts(page)
    if not found:
        return page.get("note", "")
    return f"{page['note']}: " + ", ".join(v.replace("NOT met", "**not met**") for v in found)


def tables(paths: list[str]) -> str:
    runs = [json.loads(Path(p).read_text()) for p in paths]
    out = []
    for run in runs:
        base = run["baseline"]
        out.append(f"#### {run['dialect']} — {run['members']:,} members; baseline {run['baseline_rps']:.0f} req/s "
                   f"(before {base[0]['rps']:.0f}, after {base[1]['rps']:.0f}; one client p50 "
                   f"{base[0]['solo_p50_ms']:.1f} ms)\n")
        out.append("| page | req/s | × baseline | p50 ms | p95 ms | one client p50 / p95 ms | HTML KiB | target |")
        out.append("|---|---:|---:|---:|---:|---:|---:|---|")
        for page in run["pages"]:
            ratio = f"{page['ratio']:.2f}" if page.get("ratio") is not None else "–"
            out.append(f"| {page['name']} | {page['rps']:.0f} | {ratio} | {page['p50_ms']:.0f} | {page['p95_ms']:.0f} | "
                       f"{page['solo_p50_ms']:.1f} / {page['solo_p95_ms']:.1f} | {page['bytes'] / 1024:.1f} | "
                       f"{verdict(page)} |")
        rss = ", ".join(f"{v:.0f}" for v in run.get("portal_worker_peak_rss_mb", []))
        base_rss = ", ".join(f"{v:.0f}" for v in run.get("baseline_worker_peak_rss_mb", []))
        out.append(f"\nPeak RSS per portal worker: {rss} MiB (baseline workers: {base_rss} MiB).")
        for worker in run.get("portal_worker_memory_mb", []):
            out.append(f"Portal worker after the run: RSS {worker['rss']:.0f} MiB, PSS {worker['pss']:.0f} MiB, "
                       f"USS {worker['uss']:.0f} MiB.")
        out.append("")
    weights = next((run["weights"] for run in runs if run.get("weights")), None)
    if weights:
        out.append("| member page (Chromium, 360 px) | first load KiB (requests) | later load KiB (requests) | "
                   "target < 100 / < 30 KiB |")
        out.append("|---|---:|---:|---|")
        for name, w in weights.items():
            ok = w["first"] < 100 * 1024 and w["later"] < 30 * 1024
            out.append(f"| {name} `{w['path']}` | {w['first'] / 1024:.1f} ({w['first_requests']}) | "
                       f"{w['later'] / 1024:.1f} ({w['later_requests']}) | {'met' if ok else '**not met**'} |")
    return "\n".join(out)


if __name__ == "__main__":
    print(tables(sys.argv[1:]))
