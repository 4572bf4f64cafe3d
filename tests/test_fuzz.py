"""Property-based fuzzing of whole builds: posts, front matter, widget bodies and file names an
author could write, good and bad, mixed with stray bytes.

For every generated site the project's promises must hold:

* the build exits 0 or 1, never 2 (usage) or 3 (internal error), and never hangs;
* an exit 1 prints at least one ``path:line:col: error: message`` line; no traceback ever;
* after a failed build the previous output is byte-identical;
* a successful build equals a ``--no-cache`` build, and a second build from the warm cache.

Builds run in this process (labpress.cli.main) for speed. A watchdog thread interrupts a build
that runs too long with a SIGINT (the build's KeyboardInterrupt becomes exit 130, which fails the
example); a build stuck inside C code is caught by faulthandler, which writes every thread's
traceback to the terminal (and HANG_LOG) and ends the run.
The widget kernels' own SIGALRM time limits (generator/limits.py) are left alone.

Examples are bounded and derandomised, so a CI run is quick and reproducible.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import faulthandler
import io
import json
import os
import sys
import re
import shutil
import signal
import tempfile
import textwrap
import threading
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, Phase, event, given, reject, settings, strategies as st

from yaml.reader import Reader

from conftest import REPO, SiteMaker
from support import tree
from labpress.cli import main

GOOD = b"---\ntitle: Good\ndate: 2026-03-01\ntags: [base]\n---\n\n## Start\n\nBody with $x^2$.\n"

# A small widget: a slider, a toggle and a readout, cheap to pre-compute (5 x 2 frames).
GAUGE = '''
from labpress.kernel import Figure, Slider, Toggle, View, widget

@widget(title="Gauge", k=Slider(0, 2, value=1, step=0.5, label="k"), on=Toggle(True, label="On"),
        readouts={"y": "y value"})
def gauge(k, on):
    f = Figure(x=(0, 2), y=(0, 4), title="Gauge")
    f.axes("x", "y")
    f.polyline([(0, 0), (2, 2 * k)])
    return View(f, {"y": k * 2 if on else 0.0})
'''

BUILD_SECONDS = 20  # one build of these tiny sites takes well under a second
NON_PRINTABLE = Reader.NON_PRINTABLE
CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
ERROR_LINE = re.compile(r"^[^:]+:\d+:\d+: error: ", re.M)


# LABPRESS_FUZZ_EXAMPLES=n runs n times as many examples (a longer hunt); LABPRESS_FUZZ_SHRINK=0 reports a
# failure at once instead of shrinking it (each step of shrinking is a build: minutes); LABPRESS_FUZZ_RANDOM=1
# draws new examples each run (or from pytest's --hypothesis-seed=N) instead of the same ones.
SCALE = float(os.environ.get("LABPRESS_FUZZ_EXAMPLES", "1"))
PHASES = [p for p in Phase if os.environ.get("LABPRESS_FUZZ_SHRINK", "1") != "0" or p not in (Phase.shrink, Phase.explain)]


def fuzz_settings(examples: int):
    return settings(max_examples=max(1, int(examples * SCALE)), deadline=None, database=None,
                    derandomize=os.environ.get("LABPRESS_FUZZ_RANDOM", "0") != "1",
                    print_blob=True, phases=PHASES,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.filter_too_much, HealthCheck.large_base_example])


# --- Running builds -----------------------------------------------------------------------------------

class Hung(AssertionError):
    pass


# Where a hang that cannot be interrupted leaves every thread's traceback before the process ends:
# the real stderr (pytest's capture would lose it), and a file of this process's own.
HANG_LOG = Path(tempfile.gettempdir()) / f"labpress-fuzz-hang-{os.getpid()}.log"
# The last resort waits this many times the block's limit: well past the SIGINT, so a loaded
# machine that is merely slow is never taken for a hang.
LAST_RESORT_FACTOR = 6


@contextlib.contextmanager
def watchdog(seconds: float, what: str):
    """Fail when the block runs for more than ``seconds``: a real SIGINT to the main thread (it also
    ends a blocking call such as a sleep or a wait on a process) makes a KeyboardInterrupt there, and
    as a last resort (code that never returns to the interpreter) faulthandler writes every thread's
    traceback to HANG_LOG and ends the process."""
    lock = threading.Lock()
    state = {"running": True, "fired": False}
    main_thread = threading.main_thread().ident

    def expire() -> None:
        with lock:
            if state["running"]:
                state["fired"] = True
                signal.pthread_kill(main_thread, signal.SIGINT)

    timer = threading.Timer(seconds, expire)
    timer.daemon = True
    with open(HANG_LOG, "w") as log:
        log.write(f"{what}: still running after {seconds * LAST_RESORT_FACTOR:g} s; every thread:\n")
        log.flush()
        stderr = sys.__stderr__ if sys.__stderr__ is not None else log
        faulthandler.dump_traceback_later(seconds * LAST_RESORT_FACTOR, exit=True, file=stderr)
        timer.start()
        try:
            yield state
        except KeyboardInterrupt:
            if state["fired"]:
                raise Hung(f"{what} ran for more than {seconds} s") from None
            raise
        finally:
            with lock:
                state["running"] = False
            timer.cancel()
            faulthandler.cancel_dump_traceback_later()
    if state["fired"]:
        raise Hung(f"{what} ran for more than {seconds} s")


def run(argv: list[str]) -> tuple[int, str]:
    """``labpress *argv`` in this process: (exit code, stdout + stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with watchdog(BUILD_SECONDS, "labpress " + " ".join(argv[:1])) as state:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(argv)
            except SystemExit as exc:
                code = exc.code
        if state["fired"]:
            raise Hung(f"labpress {argv[0]} ran for more than {BUILD_SECONDS} s")
    return code, out.getvalue() + err.getvalue()


# Crashes found by this test and not fixed yet: an example that ends in one of them is set aside
# (hypothesis.reject) so the hunt goes on for others. Each should have an xfail test below with its
# minimal input; once fixed, that test passes and its entry here goes. None today.
KNOWN_CRASHES: dict[str, re.Pattern] = {}


def check_outcome(code: int, output: str) -> None:
    if code == 3 and any(known.search(output) for known in KNOWN_CRASHES.values()):
        reject()
    assert code in (0, 1), f"exit {code}:\n{output[-3000:]}"
    assert "Traceback" not in output and "internal error" not in output, output[-3000:]
    if code == 1:
        assert ERROR_LINE.search(output), f"exit 1 without a path:line:col error:\n{output[-3000:]}"
    # One error a line, and nothing a terminal would take as a command (ESC) or show reordered (bidi).
    hidden = CONTROLS.search(output)
    assert not hidden, f"{hidden.group()!r} in the output:\n{output[-3000:]!r}"


def new_site(root: Path, widget: bool = True) -> SiteMaker:
    site = SiteMaker(root / "site")
    if widget:
        (site.root / "widgets").mkdir()
        (site.root / "widgets" / "gauge.py").write_text(textwrap.dedent(GAUGE), encoding="utf-8")
    return site


def write_post(site: SiteMaker, name: str, data: bytes) -> None:
    path = site.root / "content" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


_TEMPLATES: dict[tuple[str, ...], tuple[Path, dict[str, bytes]]] = {}


def good_site(args: tuple[str, ...]) -> tuple[Path, dict[str, bytes]]:
    """A site with one good post, built once per set of build options: (folder, snapshot of its output).
    Each example works on a copy (its output and warm cache included): one build fewer per example."""
    if args not in _TEMPLATES:
        site = new_site(Path(tempfile.mkdtemp(prefix="labpress-fuzz-")))
        write_post(site, "good.md", GOOD)
        code, output = run(["build", str(site.root), *args])
        assert code == 0, output
        _TEMPLATES[args] = site.root, tree(site.out)
    return _TEMPLATES[args]


def check_build(files: dict[str, bytes], args: tuple[str, ...] = (), keep_good: bool = True,
                also_check: bool = False) -> None:
    """Take a built good site, add ``files`` (name under content/ -> bytes) and build again: the promises hold.
    With ``also_check``, ``labpress check`` keeps them too, and fails when the build did."""
    template, before = good_site(args)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        root = tmp / "site"
        shutil.copytree(template, root, symlinks=True)
        out = root / "build"
        if not keep_good:
            (root / "content" / "good.md").unlink()
        for name, data in files.items():
            path = root / "content" / name
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(data)
            except OSError:  # a name this file system refuses (too long): not the build's business
                continue
        code, output = run(["build", str(root), *args])
        check_outcome(code, output)
        event(f"exit {code}")
        if also_check:
            checked, check_output = run(["check", str(root), *[a for a in args if a == "--drafts"]])
            check_outcome(checked, check_output)
            assert code == 0 or checked == 1, f"the build failed, check did not:\n{check_output[-3000:]}"
        if code == 1:
            assert tree(out) == before, "a failed build changed the previous output"
            return
        after = tree(out)
        code, output = run(["build", str(root), "--no-cache", "--out", str(tmp / "fresh"), *args])
        assert code == 0, output
        assert_same(after, tree(tmp / "fresh"), "the cached build and the --no-cache build differ")
        code, output = run(["build", str(root), "--out", str(tmp / "warm"), *args])
        assert code == 0, output
        assert_same(after, tree(tmp / "warm"), "a build from the warm cache differs")
        code, output = run(["build", str(root), *args])
        assert code == 0, output
        assert_same(after, tree(out), "building again in place changed the output")


def assert_same(expected: dict[str, bytes], actual: dict[str, bytes], message: str) -> None:
    assert sorted(expected) == sorted(actual), f"{message}: files {sorted(set(expected) ^ set(actual))}"
    differ = [name for name in expected if expected[name] != actual[name]]
    assert not differ, f"{message}: {differ}"


# --- Strategies: text -----------------------------------------------------------------------------------

# Characters that make trouble: NUL and other C0/C1 controls, line and paragraph separators, a BOM,
# zero-width and bidi marks, combining accents, astral symbols, TeX and Markdown specials.
ODD_CHARS = "\x00\x01\x07\x08\x0b\x0c\x1b\x7f\x85\u2028\u2029\ufeff\u200b\u200d\u202e\u0301\U0001F9EA\U00010000\ufffd\r\t"
SPECIAL_CHARS = "$\\{}[]()<>&*_`~#|:!-^%'\"="
def quoted(text: str) -> str:
    """``text`` as a YAML double-quoted string. Not JSON's ASCII escapes: PyYAML refuses the surrogate
    pairs (\\ud83e\\uddea) JSON writes for astral characters (YAML_VALUES tries one on purpose)."""
    return json.dumps(text, ensure_ascii=False)


plain_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)
odd_text = st.text(st.sampled_from(ODD_CHARS + SPECIAL_CHARS + "ab é日 \n"), max_size=12)
words = st.sampled_from(["Results", "results", "Method", "Méthode", "top", "main", "content", "x", "", "  ",
                         "Hypothesis", "Conclusion", "tags", "01", "a-b", "日本語", "🧪"])
some_text = st.one_of(words, plain_text, odd_text)

TEX = ["x^2", r"\frac{a}{b}", r"\frac{", "}", r"\begin{matrix} a \\ b \end{matrix}", r"\begin{matrix}",
       r"\unknowncommand", r"\href{javascript:alert(1)}{x}", r"\url{http://e.example}", r"\text{é 日}",
       r"\htmlClass{x}{y}", r"\def\a{\a}\a", r"\\", "a_b^c_d", r"\sqrt[3]{x}", "", " ", "$", "`", "\x00",
       r"\color{red}{x}", r"\rule{100000em}{100000em}", r"\mathrm{" * 5 + "}" * 5, r"\operatorname{f}"]
tex = st.one_of(st.sampled_from(TEX), st.lists(st.sampled_from(TEX), max_size=4).map("".join), odd_text)

INLINE = ["word", " ", "  ", "\n", "*em*", "**strong**", "_", "~~gone~~", "`code`", "``", "`$x$`",
          "[link](/other/)", "[rel](other)", "[abs](https://e.example/a?b=1#c)", "[bad](javascript:alert(1))",
          "![img](/a.png)", "<b>html</b>", "<script>alert(1)</script>", "&amp;", "&#0;", "\\", "$5 and $10",
          "[^1]", "<https://e.example>", "--", "...", '"quoted"', "#", "|", ":::", "$", "$$"]


@st.composite
def inline(draw) -> str:
    parts = draw(st.lists(st.one_of(
        st.sampled_from(INLINE),
        some_text,
        tex.map(lambda t: f"${t}$"),
        tex.map(lambda t: f"$${t}$$"),
    ), max_size=6))
    return "".join(parts)


# --- Strategies: Markdown blocks --------------------------------------------------------------------------

BLOCK_NAMES = ["hypothesis", "conclusion", "note", "warning", "Note", "widget", "widget gauge", "widget gauge extra",
               "widget nope", "widget gauge.py", "widget ../x", "notes", "", "note extra", "hypothesis {.x}"]

WIDGET_VALUES = ["1", "1.5", "0", "2", "7", "-1", "0.25", "abc", "true", "false", "maybe", "yes", "null", "~",
                 "[1, 2]", "[]", "{a: 1}", "{}", "2026-13-01", "2026-01-01", "9" * 5000, ".nan", ".inf", "-.inf",
                 "1e400", "0x10", "!!binary aGk=", "!!set {a}", "!!python/object:os.system ls", "!!float x",
                 "&a 1", "*a", "*missing", "[" * 12 + "]" * 12, "[&b [*b]]", '"1"', "'", '"', "|\n  text",
                 "!!timestamp soon", "1_0", "[1, [2, [3]]]"]
WIDGET_KEYS = ["k", "on", "caption", "K", "kk", "y", "on ", "'on'", "? [k]", "<<", "1", "true", "", "title",
               "frames", "k k"]
CAPTIONS = ['"y is {y:.1f}"', '"{nope}"', '"{y:q}"', '"{0}"', '"{"', '"}"', '"{y.__class__}"', '"{y[0]}"',
            '"{on!r}"', '"{k:>1000000}"', "123", "[a]", '"plain"', '"' + "{y}" * 50 + '"', '"{y:{y}}"']


GOOD_SETTINGS = {"k": ["0", "0.5", "1", "1.5", "2", "1.0"], "on": ["true", "false", "yes", "off"],
                 "caption": ['"y is {y:.1f}"', '"plain"', "'k = {k}'", '"on? {on}"', '""', "just words"]}


@st.composite
def widget_body(draw) -> str:
    lines = []
    if draw(st.booleans()):  # settings the widget takes, in any order
        for key in draw(st.lists(st.sampled_from(sorted(GOOD_SETTINGS)), unique=True, max_size=3)):
            lines.append(f"{key}: {draw(st.sampled_from(GOOD_SETTINGS[key]))}")
    for _ in range(draw(st.sampled_from([0, 0, 0, 1, 2]))):
        key = draw(st.one_of(st.sampled_from(WIDGET_KEYS), plain_text.map(quoted)))
        if key == "caption":
            value = draw(st.one_of(st.sampled_from(CAPTIONS), plain_text.map(quoted)))
        else:
            value = draw(st.one_of(st.sampled_from(WIDGET_VALUES), some_text))
        lines.insert(draw(st.integers(0, len(lines))), f"{key}: {value}")
    if draw(st.booleans()) and not lines:
        lines.append(draw(st.sampled_from(["- 1", "just words", "k: [1", "  k: 1\n k: 2", "k: 1\nk: 2",
                                           "\tk: 1", "k: &a [*a]", "# only a comment"])))
    return "\n".join(lines)


def table(cells: list[list[str]], separator: str) -> str:
    width = max(len(row) for row in cells)
    lines = ["| " + " | ".join(cells[0]) + " |", "|" + "|".join([separator] * width) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in cells[1:]]
    return "\n".join(lines)


leaf_block = st.one_of(
    st.builds(lambda n, t: "#" * n + " " + t, st.integers(1, 7), inline()),
    inline(),
    tex.map(lambda t: f"$$\n{t}\n$$"),
    tex.map(lambda t: f"$${t}$$"),
    st.builds(lambda fence, lang, code, close: f"{fence}{lang}\n{code}\n{fence if close else ''}",
              st.sampled_from(["```", "~~~", "````"]), st.sampled_from(["", "python", "nope", "py {x}", "yaml", " js"]),
              st.one_of(some_text, st.just(":::\n::: note"), st.just("$x$")), st.booleans()),
    st.builds(table, st.lists(st.lists(some_text.map(lambda t: t.replace("\n", " ")), min_size=1, max_size=3),
                              min_size=1, max_size=4),
              st.sampled_from(["---", ":--", "--:", ":-:", "-"])),
    st.builds(lambda body, close: f"::: widget gauge\n{body}\n{':::' if close else ''}", widget_body(), st.booleans()),
    st.sampled_from(["---", "***", "<div>\n::: note\n</div>", "    indented code", "\\", "1. one\n2. two",
                     "[ref]: /somewhere", "x" * 3000, "$" * 50, "`" * 20, ">" * 30 + " deep"]),
)


def container(args) -> str:
    colons, name, inner, close, indent = args
    pad = " " * indent
    closing = ":" * close
    return f"{pad}{':' * colons} {name}\n" + "\n\n".join(inner) + (f"\n{pad}{closing}" if close else "")


def prefixed(args) -> str:
    prefix, inner = args
    return "\n".join(prefix + line for line in inner.split("\n"))


block = st.recursive(
    leaf_block,
    lambda children: st.one_of(
        st.tuples(st.integers(3, 5), st.sampled_from(BLOCK_NAMES), st.lists(children, max_size=3),
                  st.sampled_from([0, 3, 3, 4, 5]), st.sampled_from([0, 0, 1, 4])).map(container),
        st.tuples(st.sampled_from(["> ", ">", "- ", "1. ", "  ", "> - "]), children).map(prefixed),
    ),
    max_leaves=8,
)

body = st.lists(block, max_size=6).map(lambda blocks: "\n\n".join(blocks) + "\n")


# --- Strategies: front matter -----------------------------------------------------------------------------

FIELDS = ("title", "date", "exp", "code", "series", "step", "status", "mood", "summary", "tags", "verdict",
          "verdict_label")
YAML_VALUES = ['"A title"', "A title", "2026-03-01", "2026-13-01", "2026-03-01 12:00:00", "0000-01-01",
               "99999-01-01", "12", "-1", "0", "1.5", "true", "null", "~", "", "[a, b]", "{a: 1}", "[]", "{}",
               '""', "'", "!!binary aGk=", "!!set {a, b}", "!!omap [a: 1]", "!!timestamp 2001-12-14t21:59:43.10-05:00",
               "!!timestamp soon", "!!python/object:os.system ls", "!!float nan", ".inf", "0x1F", "1_000", "0o17",
               "9" * 5000, "complete", "draft", "running", "DRAFT", "confirmed", "refuted", "mixed", "inconclusive",
               "basics", "unknown-series", "[optimisation, regularisation]", "[ok, [b]]", "[a, a, A]", "[' ', '#']",
               "[1, 2.5, true, null]", "|\n  block\n  text", ">-\n  folded\n  text", "&v value", "*v", "*missing",
               "&t [x, y]", "[" * 60 + "]" * 60, "'it''s'", '"\\ud800"', '"\\x00"', '"\\t\\n"', '"\\U0001F9EA"',
               "!!str 12", "!!int x", "@reserved", "`tick", "%directive", "- a\n  - b"]


def python_value(leaves=st.one_of(st.none(), st.booleans(), st.integers(-10, 10**6), st.floats(allow_nan=True),
                                  plain_text, st.dates(dt.date(1, 1, 1), dt.date(9999, 12, 31)))):
    return st.recursive(leaves, lambda c: st.one_of(st.lists(c, max_size=3),
                                                    st.dictionaries(plain_text, c, max_size=3)), max_leaves=6)


def dump_value(value) -> str:
    """A Python value as an inline YAML value (what yaml.safe_dump writes, flow style)."""
    return yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=10_000).strip().removesuffix("\n...")


yaml_value = st.one_of(
    st.sampled_from(YAML_VALUES),
    python_value().map(dump_value),
    plain_text.map(quoted),
    some_text,
)
yaml_key = st.one_of(st.sampled_from(FIELDS), st.sampled_from(["titel", "Title", "tag", "<<", "? [a, b]", "1",
                                                               "true", "null", "'date'", "\"exp\""]), plain_text)


@st.composite
def front_matter(draw) -> str:
    """YAML between the '---' lines: usually a valid post identity plus extras, sometimes anything."""
    lines = []
    if draw(st.integers(0, 3)):  # valid core: the body gets a chance to build
        day = draw(st.one_of(st.integers(1, 9).map(lambda d: f"2026-03-0{d}"),
                             st.dates(dt.date(1, 1, 1), dt.date(9999, 12, 31)).map(str),
                             st.sampled_from(["2026-03-01 12:30:00", "2026-03-01T23:59:59+14:00", "2026-03-01 00:00:00-12:00"])))
        lines += [f"title: {quoted(draw(plain_text) or 'T')}", f"date: {day}"]
        for key in draw(st.lists(st.sampled_from(["exp", "series", "tags", "verdict", "status", "summary"]),
                                 max_size=4, unique=True)):
            lines.append(key + ": " + {
                "exp": str(draw(st.one_of(st.integers(0, 3), st.integers(0, 10**100)))),
                "series": "basics\nstep: " + str(draw(st.integers(1, 2))),
                "tags": dump_value(draw(st.lists(st.sampled_from(["ml", "ML", "a b", "c++", "c#", "x.y", "tags",
                                                                  "é", "日本"]), max_size=3))),
                "verdict": draw(st.sampled_from(["confirmed", "refuted", "mixed", "inconclusive"])),
                "status": draw(st.sampled_from(["draft", "running", "complete"])),
                "summary": quoted(draw(plain_text)),
            }[key])
    for _ in range(draw(st.integers(0, 4 if lines else 6))):
        lines.append(f"{draw(yaml_key)}: {draw(yaml_value)}")
    if draw(st.integers(0, 5)) == 0:
        lines.insert(draw(st.integers(0, len(lines))), draw(st.sampled_from(
            ["a: &a [x, x, x]\nb: &b [*a, *a, *a]\nc: [*b, *b, *b]", "<<: {title: merged}", "? complex\n: key",
             "- list item", "  indented: x", "\tx: tab", "%YAML 1.1", "--- second", "...", "#comment", "a: &a [*a]",
             "x: *y\ny: &y 1"])))
    return "\n".join(lines)


STRAY = [b"\x00", b"\xff", b"\xc3", b"\xe2\x82", b"\r", b"\r\n", b"\x1b[2J", b"\xef\xbb\xbf", b"\xc2\x85",
         b"\xe2\x80\xa8", b"\x0c", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xfe\xff", b"\n---\n"]


@st.composite
def post_bytes(draw) -> bytes:
    fm = draw(front_matter())
    opening = draw(st.sampled_from(["---\n"] * 6 + ["--- \n", "---\r\n", "\ufeff---\n", "", "----\n"]))
    closing = draw(st.sampled_from(["\n---\n"] * 6 + ["\n---", "\n--- \n", "\n", "\n...\n"]))
    text = opening + fm + closing + "\n" + draw(body)
    if draw(st.integers(0, 4)) == 0:
        text = text.replace("\n", draw(st.sampled_from(["\r\n", "\r"])))
    data = text.encode("utf-8", "surrogatepass")
    for fraction, stray in draw(st.lists(st.tuples(st.floats(0, 1), st.sampled_from(STRAY)), max_size=2)):
        at = int(fraction * len(data))
        data = data[:at] + stray + data[at:]
    return data


# --- Strategies: file names --------------------------------------------------------------------------------

SPECIAL_NAMES = ["p.md", "tags.md", "index.md", "404.md", "atom.md", "assets.md", "series.md", "sitemap.md",
                 "nojekyll.md", "Tags.md", "a b.md", "..md", "...md", ".md", "x.y.md", "é.md", "e\u0301.md", "日本語.md",
                 "Ünïcödé.md", "emoji 🧪.md", "-.md", " .md", "_draft.md", ".hidden.md", "sub/p.md", "sub/tags.md",
                 "tags/x.md", "series/basics.md", "A.md", "a.md", "\u200b.md", "\u202e.md", "tab\there.md", "p.MD",
                 "good.md", "Good.md", "x" * 240 + ".md", "a%20b.md", "a#b.md", "a?b.md", "<b>.md", "a&b.md"]
# ':' is left out of generated names: the error format path:line:col cannot hold it unambiguously.
name_chars = st.characters(blacklist_categories=("Cs",), blacklist_characters="/\x00:")
file_name = st.one_of(st.sampled_from(SPECIAL_NAMES), st.text(name_chars, max_size=10).map(lambda s: s + ".md"))


# --- The properties --------------------------------------------------------------------------------------------

@fuzz_settings(examples=40)
@given(posts=st.lists(st.tuples(file_name, post_bytes()), min_size=1, max_size=3),
       args=st.sampled_from([(), (), ("--drafts",), ("--base-url", "https://h.example/sub/"), ("-j", "1")]),
       keep_good=st.booleans())
def test_fuzzed_sites_keep_the_promises(posts, args, keep_good):
    check_build(dict(posts), args, keep_good, also_check=True)


@fuzz_settings(examples=40)
@given(text=body, fm=st.sampled_from(["title: T\ndate: 2026-03-01", "title: T\ndate: 2026-03-01\nverdict: mixed"]))
def test_fuzzed_bodies_with_a_valid_identity(text, fm):
    check_build({"p.md": f"---\n{fm}\n---\n\n{text}".encode()})


@fuzz_settings(examples=30)
@given(bodies=st.lists(st.tuples(widget_body(), st.sampled_from(["", "> ", "- ", "   "])), min_size=1, max_size=3))
def test_fuzzed_widget_settings(bodies):
    # Mostly without the characters YAML refuses, so that most examples reach the widget itself.
    bodies = [(NON_PRINTABLE.sub("", text) if i % 4 else text, prefix) for i, (text, prefix) in enumerate(bodies)]
    blocks = [prefixed((prefix, f"::: widget gauge\n{text}\n:::")) for text, prefix in bodies]
    check_build({"w.md": ("---\ntitle: W\ndate: 2026-03-01\n---\n\n## Live\n\n" + "\n\n".join(blocks) + "\n").encode()})


@fuzz_settings(examples=15)
@given(names=st.lists(file_name, min_size=1, max_size=4))
def test_fuzzed_file_names(names):
    check_build({name: f"---\ntitle: T{i}\ndate: 2026-03-01\nexp: {i + 1}\n---\n\nBody.\n".encode()
                 for i, name in enumerate(names)})


# Posts that usually build, for following the cache across edits.
MILD_BLOCKS = ["Some words.", "## Results", "## Method", "Maths $x^2$ and $$\\frac{a}{b}$$.", "$$\nx^{2}\n$$",
               "::: note\nA note with $y$.\n:::", "::: widget gauge\n:::", "::: widget gauge\nk: 1.5\ncaption: \"y={y}\"\n:::",
               "| a | b |\n|---|---|\n| 1 | 2 |", "[home](/) and [other](/b/)", "```python\nprint(1)\n```", "### Small"]


@st.composite
def mild_post(draw) -> bytes:
    fields = [f"title: {quoted(draw(words) or 'T')}", f"date: 2026-03-0{draw(st.integers(1, 9))}"]
    if draw(st.booleans()):
        fields.append(f"tags: {dump_value(draw(st.lists(st.sampled_from(['ml', 'a b', 'x']), max_size=2)))}")
    if draw(st.booleans()):
        fields.append(f"series: basics\nstep: {draw(st.integers(1, 3))}")
    verdict = draw(st.sampled_from([None, "confirmed", "mixed"]))
    blocks = draw(st.lists(st.sampled_from(MILD_BLOCKS), max_size=5))
    if verdict:
        fields.append(f"verdict: {verdict}")
        blocks = ["::: hypothesis\nIt works.\n:::"] + blocks + ["::: conclusion\nIt did.\n:::"]
    if draw(st.booleans()):
        fields.append(f"status: {draw(st.sampled_from(['draft', 'running']))}")
    return ("---\n" + "\n".join(fields) + "\n---\n\n" + "\n\n".join(blocks) + "\n").encode()


GAUGE_EDITS = [GAUGE, GAUGE.replace("Slider(0, 2,", "Slider(0, 3,"), GAUGE.replace('title="Gauge"', 'title="Gauge 2"'),
               GAUGE.replace("2 * k", "3 * k"), GAUGE.replace('"y value"', '"why"')]
CONFIG_EDITS = [None, 'title = "Other Notebook"\nbase_url = "https://notes.example/"\n[series.basics]\ntitle = "Basics"\n',
                'title = "Test Notebook"\nbase_url = "https://notes.example/"\n[series.basics]\ntitle = "Renamed"\n'
                'description = "Now with words"\n',
                'title = "Test Notebook"\nbase_url = "https://other.example/deep/"\n[series.basics]\ntitle = "Basics"\n']


@fuzz_settings(examples=15)
@given(first=st.dictionaries(st.sampled_from(["a.md", "b.md", "sub/c.md"]), st.one_of(*[mild_post()] * 3, post_bytes()),
                             min_size=1, max_size=3),
       second=st.dictionaries(st.sampled_from(["a.md", "b.md", "sub/c.md"]),
                              st.one_of(*[mild_post()] * 4, post_bytes(), st.none()), max_size=3),
       gauge=st.sampled_from(GAUGE_EDITS), config=st.sampled_from(CONFIG_EDITS))
def test_fuzzed_edits_between_builds(first, second, gauge, config):
    """Whatever the last build saw (posts, a widget's code, labpress.toml), a build after edits
    equals a --no-cache build: nothing stale comes from the cache."""
    template, _before = good_site(())
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        root = tmp / "site"
        shutil.copytree(template, root, symlinks=True)
        for name, data in first.items():
            (root / "content" / name).parent.mkdir(parents=True, exist_ok=True)
            (root / "content" / name).write_bytes(data)
        check_outcome(*run(["build", str(root)]))
        previous = tree(root / "build")
        for name, data in second.items():
            path = root / "content" / name
            if data is None:
                path.unlink(missing_ok=True)
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(data)
        (root / "widgets" / "gauge.py").write_text(textwrap.dedent(gauge), encoding="utf-8")
        if config:
            (root / "labpress.toml").write_text(config, encoding="utf-8")
        code, output = run(["build", str(root)])
        check_outcome(code, output)
        event(f"exit {code}")
        if code == 1:
            assert tree(root / "build") == previous, "a failed build changed the previous output"
            return
        code, output = run(["build", str(root), "--no-cache", "--out", str(tmp / "fresh")])
        assert code == 0, output
        assert_same(tree(root / "build"), tree(tmp / "fresh"), "the build after edits and a --no-cache build differ")


@fuzz_settings(examples=300)
@given(fm=front_matter())
def test_fuzzed_front_matter_parses_to_errors_or_a_post(fm):
    """parse_front_matter alone, many more examples: never raises, every error inside the text."""
    from labpress.errors import ErrorSink
    from labpress.content.frontmatter import PostMeta, parse_front_matter

    sink = ErrorSink("p.md")
    with watchdog(BUILD_SECONDS, "parse_front_matter"):
        meta = parse_front_matter(fm, 2, sink, CONFIG)
    assert isinstance(meta, PostMeta)
    lines = ["---"] + fm.split("\n") + ["---"]  # the post's lines, 1-based from the opening '---'
    for error in sink.errors:
        assert 1 <= error.line <= len(lines), error
        assert 1 <= error.col <= len(lines[error.line - 1]) + 1, (error, lines[error.line - 1])
        assert "\n" not in error.message and "\r" not in error.message, error


def _config():
    from labpress.config.schema import load_config

    folder = Path(tempfile.mkdtemp(prefix="labpress-fuzz-config-"))
    (folder / "labpress.toml").write_text('title = "T"\nbase_url = "https://e.example/"\n[series.basics]\ntitle = "B"\n')
    shutil.copytree(REPO / "themes", folder / "themes")
    return load_config(folder)


CONFIG = _config()


@fuzz_settings(examples=30)
@given(posts=st.lists(post_bytes(), min_size=1, max_size=3), title=some_text, series=st.sampled_from([None, "basics"]))
def test_new_post_next_to_fuzzed_posts(posts, title, series):
    """``labpress new`` reads every post's front matter: whatever they hold, it writes a post or says why."""
    with tempfile.TemporaryDirectory() as tmp:
        site = new_site(Path(tmp), widget=False)
        for i, data in enumerate(posts):
            write_post(site, f"p{i}.md", data)
        argv = ["new", title, "--site", str(site.root), "--date", "2026-03-01"] + (["--series", series] if series else [])
        code, output = run(argv)
        assert code in (0, 1, 2), output
        assert "Traceback" not in output and "internal error" not in output, output


# --- Regressions: what the fuzzing found, as plain tests ---------------------------------------------------

def _build_one(text: str | bytes, name: str = "p.md") -> tuple[int, str]:
    with tempfile.TemporaryDirectory() as tmp:
        site = new_site(Path(tmp))
        write_post(site, name, text if isinstance(text, bytes) else text.encode("utf-8"))
        return run(["build", str(site.root)])


@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\x85"])
def test_front_matter_positions_count_only_newlines(separator):
    """YAML also ends a line at NEL, U+2028 and U+2029; an error is still placed on the post's own lines."""
    code, output = _build_one(f"---\ntitle: 'a{separator}b'\ndate: 2026-03-01\nexp: x\n---\n")
    assert code == 1 and "content/p.md:4:6: error: 'exp' must be a whole number of at least 0, not 'x'" in output, output
    code, output = _build_one(f"---\nsummary: 'a{separator}b'\ntitle: [\n---\n")
    assert code == 1 and "content/p.md:4:1: error: front matter is not valid YAML" in output, output


def test_error_lines_show_control_characters_as_escapes():
    """A file name or a quoted word holding a newline, an ESC or a bidi override cannot split an error
    line, send a command to the terminal or disguise the text."""
    code, output = _build_one("---\ntitle: T\n---\n\n::: \x1b[2J\u202e\n:::\n", name="a\nb\x1b[31m.md")
    assert code == 1, output
    assert output.splitlines()[:2] == [
        "content/a\\nb\\x1b[31m.md:1:1: error: front matter is missing the required field 'date'",
        "content/a\\nb\\x1b[31m.md:5:5: error: unknown block '\\x1b[2j\\u202e'; known blocks: hypothesis, conclusion,"
        " note, tip, important, warning, caution, widget, table"], output


def test_the_watchdog_fails_a_hang():
    import time

    started = time.perf_counter()
    with pytest.raises(Hung):
        with watchdog(0.2, "a sleep"):
            time.sleep(5)
    assert time.perf_counter() - started < 2


# --- Crashes the fuzzing found, fixed since ----------------------------------------------------------

def test_a_control_character_in_a_widget_body_is_an_error_at_it():
    code, output = _build_one("---\ntitle: T\ndate: 2026-03-01\n---\n\n::: widget gauge\nk: \x0c\n:::\n")
    assert code == 1 and "content/p.md:7:4: error: widget settings cannot hold the character U+000C" in output, output


def test_widget_setting_errors_after_a_line_separator_are_on_the_right_line():
    code, output = _build_one("---\ntitle: T\ndate: 2026-03-01\n---\n\n::: widget gauge\ncaption: \"a\u2028b\"\nk: 7\n:::\n")
    assert code == 1 and "content/p.md:8:" in output, output
