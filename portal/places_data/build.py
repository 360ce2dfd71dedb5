"""Rebuild ``adcodes.csv.gz`` from cpca's adcode table (see README.md next to this file).

Run once by a maintainer, never at runtime: it needs ``pypinyin`` (build time only)::

    pip download --no-deps cpca==0.5.5 -d /tmp/cpca && unzip -o /tmp/cpca/cpca-*.whl -d /tmp/cpca/x
    pip install --target /tmp/pyp pypinyin==0.55.0
    PYTHONPATH=/tmp/pyp python portal/places_data/build.py /tmp/cpca/x/cpca/resources/adcodes.csv
"""
from __future__ import annotations

import csv
import gzip
import sys
from pathlib import Path

from pypinyin import Style, lazy_pinyin

#: Placeholder "cities" of municipalities and province-administered counties: not places anyone names.
PLACEHOLDERS = {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"}
OUT = Path(__file__).with_name("adcodes.csv.gz")


def build(source: Path) -> int:
    """Write code (6 digits), name and pinyin key of every province, city and county row; returns the count."""
    rows = []
    with source.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            code, name = row["adcode"][:6], row["name"].strip()
            if name in PLACEHOLDERS:
                continue
            rows.append((code, name, "".join(lazy_pinyin(name, style=Style.NORMAL)).lower()))
    rows.sort()
    with gzip.open(OUT, "wt", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(("code", "name", "pinyin"))
        writer.writerows(rows)
    return len(rows)


if __name__ == "__main__":
    print(build(Path(sys.argv[1])), "rows written to", OUT)
