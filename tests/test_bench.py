"""Smoke test of `make bench`: the report and the raw numbers are produced, well-formed and agree.

Run small so the suite stays quick: 30 posts, 1 run per case, no reader side (Chromium) and no Search
section; every build-side table, every peer (Hugo with ToMath, Hugo with raw TeX, Pelican), every
target row and the profiles of the missed targets are still made. No speed is asserted here (targets
live in the report); only that every part ran, said something, and that the report says what
results.json holds.
"""

import json
import re
import subprocess
import sys

from conftest import REPO

POSTS = 30
PEERS = ("Hugo + ToMath", "Hugo, raw TeX", "Pelican")
TARGETS = ("clean build at most 2× Hugo without maths", "one-post edit inside `labpress serve` under 50 ms",
           "no-change `labpress build` under 500 ms", "*informative:* clean build faster than Hugo + ToMath")
ROWS = ("clean build (empty caches)", "clean build, formula cache warm", "no-change rebuild", "one post edited",
        "no-change rebuild, in `labpress serve`", "one post edited, in `labpress serve`")


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


def cells(row: str) -> list[str]:
    return [cell.strip() for cell in row.strip().strip("|").split("|")]


def table_after(report: str, heading: str, first_column: str) -> dict[str, list[str]]:
    """The table under ``heading`` whose header starts with ``first_column``: its header and rows by first cell."""
    section = report.split(f"\n{heading}\n", 1)[1].split("\n## ", 1)[0]
    table = next(t for t in tables(section) if cells(t[0])[0] == first_column)
    return {cells(row)[0]: cells(row) for row in [table[0], *table[2:]]}


def test_quick_bench_writes_a_well_formed_report(tmp_path):
    run = subprocess.run([sys.executable, str(REPO / "bench" / "run.py"), "--quick", "--posts", str(POSTS),
                          "--runs", "1", "--no-reader", "--no-search", "--out", str(tmp_path)],
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["quick"] and results["runs"] == 1 and [size["posts"] for size in results["build"]] == [POSTS]
    size = results["build"][0]
    for tool, cases in (("labpress", ("clean", "math_warm", "no_change", "one_edit", "no_change_serve", "one_edit_serve")),
                        ("hugo_math", ("clean", "math_warm", "no_change", "one_edit")),
                        ("hugo", ("clean", "no_change", "one_edit")), ("pelican", ("clean", "no_change", "one_edit"))):
        for case in cases:
            assert size[tool][case]["seconds"] > 0 and size[tool][case]["pages"] >= POSTS, (tool, case)
            assert len(size[tool][case]["runs"]) == 1, (tool, case)
        assert size[tool]["clean"]["peak_mb"] > 10 and size[tool]["no_change"]["peak_mb"] > 10, tool
    assert size["labpress"]["no_change"]["typeset"] == 0  # nothing is typeset again when nothing changed
    assert size["labpress"]["one_edit_serve"]["rendered_posts"] == 1
    assert 0 < size["maths"]["distinct"] < size["maths"]["occurrences"] and size["maths"]["cold_per_second"] > 0
    # Hugo with ToMath typeset every formula of the corpus (the bench checked its pages); raw Hugo none.
    typeset = size["hugo_math"]["check"]
    assert typeset["typeset"] == typeset["formulas"] == size["maths"]["occurrences"] and typeset["fallbacks"] == 0
    assert size["hugo"]["check"]["typeset"] == 0
    assert "reader" not in results and "search" not in size
    # The floor of a clean build: the parts no build can skip, measured alone (bench/floor.py).
    floor_parts = size["floor"]["cpu_seconds"]
    assert size["floor"]["formulas"] == size["maths"]["distinct"]
    assert all(floor_parts[part] > 0 for part in ("katex", "markdown", "pagefind")), floor_parts
    assert size["floor"]["least_wall_seconds"] == size["floor"]["total_cpu_seconds"] / size["floor"]["cores"]
    assert 0 < size["floor"]["katex_wall_on_cores"] < 2 * floor_parts["katex"]

    report = (tmp_path / "report.md").read_text()
    for heading in ("# LabPress benchmarks", "## Targets", f"## Build side: {POSTS} posts", "## Maths",
                    "## Where a target is missed", "## Method"):
        assert f"\n{heading}\n" in f"\n{report}", heading
    assert "## Search" not in report and "## Reader side" not in report
    for table in tables(report):
        header, rule, *rows = table
        assert set(rule.replace("|", "")) <= set("-:"), rule
        for row in rows:
            assert row.count("|") == header.count("|"), (header, row)

    # The build table: LabPress's time over each peer's, for every case a peer has, as results.json says.
    build = table_after(report, f"## Build side: {POSTS} posts", "case")
    header = build["case"]
    for peer in PEERS:
        assert peer in header and f"LabPress ÷ {peer}" in header, peer
    lp = size["labpress"]
    for label, case in zip(ROWS, ("clean", "math_warm", "no_change", "one_edit", "no_change_serve", "one_edit_serve")):
        row = build[label]
        for peer, tool in zip(PEERS, ("hugo_math", "hugo", "pelican")):
            ratio = row[header.index(f"LabPress ÷ {peer}")]
            if case.endswith("_serve"):
                assert ratio == "", (label, peer)
                continue
            theirs = size[tool].get(case) or size[tool]["clean"]  # raw peers have no formula cache
            assert float(ratio) == round(lp[case]["seconds"] / theirs["seconds"], 2), (label, peer, ratio)

    # The targets: each row with its measure and a verdict; a missed one names where its time goes,
    # and has its profile (a breakdown and the call tree) under "Where a target is missed".
    targets = table_after(report, "## Targets", "target")
    assert targets["target"] == ["target", "measured", "verdict", "where the time goes"]
    found = {name: next(row for key, row in targets.items() if key.startswith(name)) for name in TARGETS}
    floor = size["hugo"]["clean"]["seconds"]
    assert f"{lp['clean']['seconds'] / floor:.2f}×" in found[TARGETS[0]][1]
    misses = report.split("\n## Where a target is missed\n", 1)[1].split("\n## ", 1)[0]
    for name, case in zip(TARGETS[:3], ("clean", "one_edit_serve", "no_change")):
        _, measured, verdict, where = found[name]
        assert measured and re.fullmatch(r"\*\*met\*\*|\*\*missed\*\* by .+", verdict), (name, verdict)
        if verdict.startswith("**missed**"):
            largest = size["profiles"][case]["breakdown"][:3]
            assert largest and sum(part["share"] for part in size["profiles"][case]["breakdown"]) > 0.99, case
            assert where == ", ".join(f"{part['name']} {part['share']:.0%}" for part in largest), (name, where)
            assert all(f"| {part['name']} |" in misses for part in largest), name
        else:
            assert where == "" and case not in size["profiles"], name
    assert found[TARGETS[3]][2] in ("faster", "slower")
    if found[TARGETS[0]][2].startswith("**missed**"):
        sys.path.insert(0, str(REPO / "bench"))
        try:
            from report import seconds as shown
        finally:
            sys.path.remove(str(REPO / "bench"))
        assert f"against the target's {shown(2 * floor)}." in misses and "(bench/floor.py" in misses
    missed = [n for n in TARGETS[:3] if found[n][2].startswith("**missed**")]
    assert misses.count("| part | time | share |") == misses.count("The top of the call tree:") == len(missed)
    if not missed:
        assert "No build-side target is missed." in misses


def test_the_search_bench_stands_in_for_write_search_as_the_build_calls_it(tmp_path):
    """bench/search.py (full mode only) replaces write_search with a step that writes no index; the build
    must be able to call it exactly as it calls write_search, whatever arguments it passes."""
    sys.path.insert(0, str(REPO / "bench"))
    try:
        import search as search_bench
    finally:
        sys.path.remove(str(REPO / "bench"))
    from labpress.site.pipeline import build_site

    site = tmp_path / "site"
    (site / "content").mkdir(parents=True)
    (site / "labpress.toml").write_text('title = "T"\nbase_url = "https://example.org/"\n')
    (site / "content" / "a.md").write_text("---\ntitle: A\ndate: 2026-01-01\n---\n\nText.\n")
    real = search_bench.search.write_search
    search_bench.search.write_search = search_bench.without_index
    try:
        build_site(site, out_dir=tmp_path / "out")
    finally:
        search_bench.search.write_search = real
    assert not (tmp_path / "out" / "assets" / "pagefind").exists()
    assert list((tmp_path / "out" / "assets").glob("search.*.js"))
