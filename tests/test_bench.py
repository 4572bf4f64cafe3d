"""Smoke test of `make bench`: the report is produced and well-formed (no speed is asserted)."""

import json
import subprocess
import sys

from conftest import REPO


def test_bench_writes_a_report(tmp_path):
    subprocess.run([sys.executable, str(REPO / "bench" / "run.py"), "--posts", "10", "--runs", "1", "--out", str(tmp_path)],
                   check=True, capture_output=True, text=True)
    results = json.loads((tmp_path / "results.json").read_text())["results"]
    assert [r["posts"] for r in results] == [10]
    for case in ("clean", "math_warm", "no_change", "one_edit"):
        assert results[0][case]["seconds"] > 0 and results[0][case]["pages"] > 10
    assert results[0]["no_change"]["typeset"] == 0  # nothing re-typeset when nothing changed
    report = (tmp_path / "report.md").read_text()
    assert report.startswith("# LabPress benchmarks") and "| 10 | clean build |" in report and "## Maths" in report
