"""The browser code: ESLint over it, its pure functions under node's test runner, and the rules it
shares with the build checked against the same tables on both sides (tests/shared_cases/).

ESLint and the node tests need the npm set-up (`make test` runs `npm ci` first); without
node_modules they are skipped. The Python halves of the tables always run.
"""

from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from labpress.kernel import ControlError
from labpress.kernel.controls import Choice, Point, Seed, Slider, Toggle, _tidy
from labpress.kernel.widget import Widget
from labpress.widgets.library import frame_key

REPO = Path(__file__).resolve().parent.parent
CASES = REPO / "tests" / "shared_cases"
ESLINT = REPO / "node_modules" / ".bin" / "eslint"
NODE = shutil.which("node")

needs_npm = pytest.mark.skipif(not (REPO / "node_modules").is_dir(),
                               reason="node_modules is absent: run `npm ci` (make test does) to lint and test the browser code")


def lint_targets() -> list[str]:
    """Every browser script LabPress ships or serves, the snapshot maker, the node tests and the config itself."""
    scripts = [*(REPO / "generator" / "browser" / "runtime").glob("*.js"), *(REPO / "generator" / "browser").glob("*.js"),
               *(REPO / "themes").glob("*/static/*.js"), REPO / "generator" / "widgets" / "make_snapshot.mjs"]
    return [str(p.relative_to(REPO)) for p in sorted(scripts)] + ["tests/js", "eslint.config.js"]


def run(args: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=120, **kwargs)


@needs_npm
def test_eslint_passes():
    assert ESLINT.exists(), "node_modules has no eslint: run `npm ci`"
    targets = lint_targets()
    assert {"generator/browser/runtime/loader.js", "generator/browser/runtime/main.js", "generator/browser/runtime/worker.js",
            "generator/browser/reload.js", "themes/default/static/scheme.js"} <= set(targets)
    result = run([str(ESLINT), "--max-warnings", "0", *targets])
    assert result.returncode == 0, result.stdout + result.stderr


@needs_npm
@pytest.mark.parametrize("module", ["frames.js", "contract.js", "urlstate.js"])
def test_eslint_keeps_the_pure_rules_free_of_the_page(module):
    """The pure modules are imported by node tests: the config gives them no browser globals, so a DOM call fails the lint."""
    source = (REPO / "generator" / "browser" / "runtime" / module).read_text() + "\nexport const title = () => document.title;\n"
    result = run([str(ESLINT), "--stdin", "--stdin-filename", f"generator/browser/runtime/{module}"], input=source)
    assert result.returncode == 1 and "'document' is not defined" in result.stdout, result.stdout + result.stderr


@needs_npm
def test_node_unit_tests_pass():
    assert NODE, "node is not on PATH"
    result = run([NODE, "--test", "tests/js/"])
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"^# fail 0$", result.stdout, re.M) and re.search(r"^# pass [1-9]", result.stdout, re.M), result.stdout


def table(name: str) -> list[dict]:
    return json.loads((CASES / f"{name}.json").read_text(encoding="utf-8"))["cases"]


def expected(case: dict, field: str):
    return case["python"] if "python" in case else case[field]


def make_control(spec: dict):
    kind = spec["kind"]
    if kind == "slider":
        return Slider(spec["min"], spec["max"], step=spec["step"])
    if kind == "toggle":
        return Toggle()
    if kind == "choice":
        return Choice(dict(spec["options"]))
    if kind == "seed":
        return Seed(rolls=spec["rolls"])
    if kind == "point":
        return Point(x=tuple(spec["x"]), y=tuple(spec["y"]), step=spec["step"])
    raise ValueError(kind)


def make_widget(specs: list[dict]) -> Widget:
    def table_widget(**state):
        return state

    return Widget(table_widget, {spec["name"]: make_control(spec) for spec in specs}, {}, "")


def python_key(w: Widget, state: dict) -> str | None:
    """The key the build writes this state's frame under, or None when it writes none for it."""
    if w.state_count() is None:
        return None
    try:
        return frame_key(w, state)
    except ControlError:
        return None


@pytest.mark.parametrize("case", table("frame_keys"), ids=lambda case: case["name"])
def test_frame_key_follows_the_shared_table(case):
    w = make_widget(case["controls"])
    for spec, (name, control) in zip(case["controls"], w.controls.items()):
        # The table's controls are what the page's data-controls holds (widgets.instance_html).
        page = {"name": name, **control.describe()}
        if control.kind == "choice":
            page["options"] = [[o, t] for o, t in control.options]
        assert {key: page[key] for key in spec} == spec
    assert python_key(w, case["state"]) == expected(case, "key")


def test_shared_tables_mark_their_differences():
    for name, field in (("frame_keys", "key"), ("tidy", "tidy")):
        for case in table(name):
            if "python" in case or "js" in case:
                assert {"python", "js", "why"} <= set(case) and field not in case, case
                assert case["python"] != case["js"], f"{case}: the sides agree now: give one {field!r}"
            else:
                assert field in case, case


@pytest.mark.parametrize("case", table("tidy"), ids=lambda case: repr(case["x"]))
def test_tidy_follows_the_shared_table(case):
    got = _tidy(case["x"])
    want = expected(case, "tidy")
    assert got == want and math.copysign(1, got) == math.copysign(1, want), (got, want)
