"""Smoke test of `make bench QUICK=1`: the report and the raw numbers are produced and well-formed.

No speed is asserted here (targets live in the report); only that every part ran and said something.
"""

import json
import subprocess
import sys

import pytest

from conftest import REPO


def tables(markdown: str) -> list[list[str]]:
    """Every Markdown table of the report, as its lines."""
    found, current = [], []
    for line in markdown.splitlines() + [""]:
        if line.startswith("|"):
            current.append(line)
        elif current:
            found.append(current)
            current = []
    return found


@pytest.mark.browser
def test_quick_bench_writes_a_well_formed_report(tmp_path):
    run = subprocess.run([sys.executable, str(REPO / "bench" / "run.py"), "--quick", "--out", str(tmp_path)],
                         capture_output=True, text=True, timeout=1200)
    assert run.returncode == 0, run.stderr[-3000:]
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["quick"] and [size["posts"] for size in results["build"]] == [100]
    size = results["build"][0]
    for tool, cases in (("labpress", ("clean", "math_warm", "no_change", "one_edit", "no_change_serve", "one_edit_serve")),
                        ("pelican", ("clean", "no_change", "one_edit")), ("hugo", ("clean", "no_change", "one_edit"))):
        for case in cases:
            assert size[tool][case]["seconds"] > 0 and size[tool][case]["pages"] >= 100, (tool, case)
    assert size["labpress"]["no_change"]["typeset"] == 0  # nothing is typeset again when nothing changed
    assert size["labpress"]["one_edit_serve"]["rendered_posts"] == 1
    assert 0 < size["maths"]["distinct"] < size["maths"]["occurrences"] and size["maths"]["cold_per_second"] > 0
    reader = results["reader"]
    assert "error" not in reader["load"] and reader["load"]["bytes"]["total"]["transferred"] > 0

    report = (tmp_path / "report.md").read_text()
    for heading in ("# LabPress benchmarks", "## Targets", "## Build side: 100 posts", "## Maths",
                    "## Reader side", "## Method"):
        assert f"\n{heading}\n" in f"\n{report}", heading
    assert "not measured" not in report
    for table in tables(report):
        header, rule, *rows = table
        assert set(rule.replace("|", "")) <= set("-:"), rule
        for row in rows:
            assert row.count("|") == header.count("|"), (header, row)
