"""Widgets and formulas given bad or hostile input: each is an error at its place in the post (exit 1),
never an internal error, a traceback, a hang or a build that silently made nothing."""

import json
import re
import textwrap
import time

import pytest

HEAD = "---\ntitle: W\ndate: 2026-01-01\n---\n\n## Live\n\n"  # the widget fence is on line 8, its body from line 9

TOY = '''
from labpress.kernel import Choice, Point, Slider, Toggle, View, widget

@widget(k=Slider(0, 2, value=1, step=0.5), on=Toggle(True), opt=Choice(["a", "b"]), p=Point((0, 0)))
def toy(k, on, opt, p):
    return View("<svg/>", {"y": k})
'''

FAST_LIMIT = 'title = "T"\n[limits]\nseconds_per_block = 1\n'


@pytest.fixture
def wsite(site):
    site.widget("toy", TOY)
    return site


def build(site, body: str):
    result, html = site.build_post(HEAD + body)
    assert "internal error" not in result.stderr and "Traceback" not in result.stderr, result.stderr
    return result, html


def failed(site, body: str) -> list[str]:
    result, _ = build(site, body)
    assert result.returncode == 1, result.stderr
    assert not (site.out / "p").exists()
    return result.errors


def one_error(site, body: str) -> str:
    errors = failed(site, body)
    assert len(errors) == 1, errors
    return errors[0]


# 1. Overrides of the wrong type ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("settings, expected", [
    ("k: 2026-13-01", "content/p.md:9:4: error: the value of 'k' cannot be read: month must be in 1..12"),
    ("[k, on]: 1", "content/p.md:9:1: error: a widget setting is named by a control name, not a list or a mapping"),
    ("{k: 1}: 1", "content/p.md:9:1: error: a widget setting is named by a control name, not a list or a mapping"),
    ("k: " + "[" * 20 + "]" * 20,
     "content/p.md:9:4: error: the value of 'k' nests more than 8 levels deep (a control takes a value or a point [x, y])"),
    ("k: " + "9" * 400, "content/p.md:9:4: error: widget 'toy': 'k' must be a number below 1e308, not a number of 400 digits"),
    ("k: " + "9" * 5000, "content/p.md:9:4: error: the value of 'k' cannot be read: a number of 5000 digits is more than Python reads"),
    ("k: 1.0e+400", "content/p.md:9:4: error: widget 'toy': 'k' must be a number, not inf"),
    ("k: .nan", "content/p.md:9:4: error: widget 'toy': 'k' must be a number, not nan"),
    ("k: -.inf", "content/p.md:9:4: error: widget 'toy': 'k' must be a number, not -inf"),
    ("k: '1'", "content/p.md:9:4: error: widget 'toy': 'k' must be a number, not '1'"),
    ("on: 1", "content/p.md:9:5: error: widget 'toy': 'on' must be true or false, not 1"),
    ("opt: [a]", "content/p.md:9:6: error: widget 'toy': 'opt' must be one of 'a', 'b', not ['a']"),
    ("p: [0, 1.0e+999]", "content/p.md:9:4: error: widget 'toy': 'p' y must be a number, not inf"),
    ("p: {x: 0, y: 0}", "content/p.md:9:4: error: widget 'toy': 'p' must be a point [x, y], not {'x': 0, 'y': 0}"),
    ("kk: 1", "content/p.md:9:1: error: widget 'toy' has no control 'kk'; its controls: k, on, opt, p"),
    ("k: 1\nk: 2", "content/p.md:10:1: error: 'k' is set twice in this widget block"),
    ("k: !!python/object:os.system {}",
     "content/p.md:9:4: error: the value of 'k' cannot be read: could not determine a constructor for the tag"
     " 'tag:yaml.org,2002:python/object:os.system'"),
    ("k: !!binary aGVsbG8=", "content/p.md:9:4: error: widget 'toy': 'k' must be a number, not b'hello'"),
    ("- k\n- 1", "content/p.md:9:1: error: a widget block holds 'control: value' lines and an optional 'caption: ...'"),
    ("just words", "content/p.md:9:1: error: a widget block holds 'control: value' lines and an optional 'caption: ...'"),
    ("caption: [1]", "content/p.md:9:10: error: the widget caption must be text"),
])
def test_wrong_overrides_are_errors_at_their_line(wsite, settings, expected):
    assert one_error(wsite, f"::: widget toy\n{settings}\n:::\n") == expected


def test_overrides_nested_past_the_yaml_parser_are_an_error_in_the_block(wsite):
    error = one_error(wsite, "::: widget toy\nk: " + "[" * 5000 + "]" * 5000 + "\n:::\n")
    assert re.fullmatch(r"content/p\.md:9:\d+: error: widget settings nest too deeply \(.*\)", error), error


def test_a_billion_laughs_gets_a_short_message(wsite):
    # Seven levels of nine aliases: 4.8 million numbers, if anything tried to list them.
    levels = ["&a0 [1, 1, 1, 1, 1, 1, 1, 1, 1]"]
    levels += [f"&a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 7)]
    started = time.perf_counter()
    error = one_error(wsite, "::: widget toy\nk: [" + ", ".join(levels) + "]\n:::\n")
    assert time.perf_counter() - started < 20
    assert error.startswith("content/p.md:9:4: error: widget 'toy': 'k' must be a number, not [[1, 1, 1"), error
    assert len(error) < 200 and error.endswith("…")


def test_huge_text_is_cut_short_in_the_message(wsite):
    error = one_error(wsite, "::: widget toy\nopt: " + "x" * 100_000 + "\n:::\n")
    assert error.startswith("content/p.md:9:6: error: widget 'toy': 'opt' must be one of 'a', 'b', not 'xxx")
    assert len(error) < 200 and error.endswith("…")


def test_a_choice_with_many_options_names_only_a_few(wsite):
    wsite.widget("many", '''
    from labpress.kernel import Choice, View, widget

    @widget(c=Choice(list(range(100_000))))
    def many(c):
        return View("<svg/>", {})
    ''')
    error = one_error(wsite, "::: widget many\nc: -1\n:::\n")
    assert error == "content/p.md:9:4: error: widget 'many': 'c' must be one of 0, 1, 2, 3, 4, 5 and 99994 more, not -1"


# 2. Kernels that misbehave -------------------------------------------------------------------------------------------

def kernel(body: str, controls: str = "t=Toggle()", imports: str = "") -> str:
    """A widget module 'bad' whose kernel runs ``body`` (line 6 of the file is the body's first line)."""
    return (f"from labpress.kernel import Figure, Slider, Toggle, View, widget\n{imports}\n\n"
            f"@widget({controls})\ndef bad(t):\n" + textwrap.indent(textwrap.dedent(body), "    "))


@pytest.mark.parametrize("body, expected", [
    ("import sys\nsys.exit()\n", "kernel error: the kernel called sys.exit(): a kernel returns a View (at widgets/bad.py:7)"),
    ("import sys\nsys.exit(3)\n", "kernel error: the kernel called sys.exit(): a kernel returns a View (at widgets/bad.py:7)"),
    ("raise KeyboardInterrupt\n", "kernel error: KeyboardInterrupt (at widgets/bad.py:6)"),
    ("raise GeneratorExit('done')\n", "kernel error: GeneratorExit: done (at widgets/bad.py:6)"),
    ("class Stop(BaseException):\n    pass\nraise Stop('here')\n", "kernel error: Stop: here (at widgets/bad.py:8)"),
    ("class Odd(Exception):\n    def __str__(self):\n        raise ValueError\nraise Odd()\n",
     "kernel error: Odd (at widgets/bad.py:9)"),
    ("raise ValueError('x' * 100_000)\n", None),
    ("def f(n):\n    return f(n + 1)\nreturn f(0)\n",
     "kernel error: RecursionError: maximum recursion depth exceeded"),
    ("return View('<svg/>', {1: 2})\n", "kernel error: readout names must be text, not 1 (int) (at widgets/bad.py:4)"),
    ("return View('<svg/>', {('a',): 2})\n", "kernel error: readout names must be text, not ('a',) (tuple) (at widgets/bad.py:4)"),
    ("class S:\n    def __str__(self):\n        raise RuntimeError('no')\nreturn View('<svg/>', {'x': S()})\n",
     "kernel error: readout 'x' cannot be shown as text: RuntimeError: no (at widgets/bad.py:8)"),
    ("class S:\n    def __str__(self):\n        return 5\nreturn View('<svg/>', {'x': S()})\n",
     "kernel error: readout 'x' cannot be shown as text: TypeError: __str__ returned non-string (type int)"
     " (at widgets/bad.py:4)"),
    ("class F(float):\n    def __format__(self, spec):\n        return 5\nreturn View('<svg/>', {'x': [F(1)]})\n",
     "kernel error: readout 'x' cannot be shown as text: TypeError: __format__ must return a str, not int"
     " (at widgets/bad.py:4)"),
    ("x = []\nx.append(x)\nreturn View('<svg/>', {'x': x})\n",
     "kernel error: readout 'x' cannot be shown as text: RecursionError: maximum recursion depth exceeded"),
    ("return View('<svg/>', {'x': 10 ** 5000})\n", None),
    ("return View(42, {})\n", "kernel error: View.svg must be a Figure or SVG text, not int (at widgets/bad.py:4)"),
    ("return View(b'<svg/>', {})\n", "kernel error: View.svg must be a Figure or SVG text, not bytes (at widgets/bad.py:4)"),
    ("return View('<svg/>', [1])\n", "kernel error: View.readouts must be a dict of name -> value, not list (at widgets/bad.py:4)"),
    ("f = Figure(x=(0, float('inf')))\nreturn View(f, {})\n",
     "kernel error: ValueError: a scale needs finite numbers, not the domain (0.0, inf)"),
])
def test_kernel_failures_are_errors_at_the_widget(wsite, body, expected):
    wsite.widget("bad", kernel(body))
    error = one_error(wsite, "::: widget bad\n:::\n")
    assert error.startswith("content/p.md:8:1: error: widget 'bad': kernel error: "), error
    assert len(error) < 400, error
    if expected:
        assert error.startswith(f"content/p.md:8:1: error: widget 'bad': {expected}"), error


def test_caption_whose_value_cannot_be_formatted(wsite):
    wsite.widget("bad", kernel("class F:\n    def __format__(self, spec):\n        raise OSError('nope')\n"
                               "return View('<svg/>', {'x': F()})\n"))
    assert one_error(wsite, '::: widget bad\ncaption: "{x:.2f}"\n:::\n') == (
        "content/p.md:8:1: error: widget 'bad': kernel error: the caption cannot be filled in: OSError: nope")


@pytest.mark.parametrize("spec", ["{x:.1000000000f}", "{x:>99999999}", "{x:{w}}"])
def test_caption_formats_may_not_ask_for_gigabytes(wsite, spec):
    wsite.widget("bad", kernel("return View('<svg/>', {'x': 1.5, 'w': 10 ** 9})\n"))
    started = time.perf_counter()
    error = one_error(wsite, f'::: widget bad\ncaption: "{spec}"\n:::\n')
    assert time.perf_counter() - started < 20
    assert error.startswith("content/p.md:8:1: error: widget 'bad': kernel error: the caption cannot be filled in:"
                            " ValueError: the format"), error
    assert "asks for more than 1000 characters" in error


def test_kernel_error_at_a_precomputed_state_names_the_state(wsite):
    wsite.widget("bad", kernel("return View('<svg/>', {'r': 1 / (2 - k)})\n",
                               controls="k=Slider(0, 2, step=1)").replace("def bad(t)", "def bad(k)"))
    assert one_error(wsite, "::: widget bad\n:::\n") == (
        "content/p.md:8:1: error: widget 'bad': kernel error: at k=2.000: ZeroDivisionError: float division by zero"
        " (at widgets/bad.py:6)")


def test_kernel_file_that_is_not_utf8(wsite):
    (wsite.root / "widgets" / "bad.py").write_bytes(kernel("return View('<svg/>', {'x': 'caf\xe9'})\n").encode("latin-1"))
    assert one_error(wsite, "::: widget bad\n:::\n") == (
        "content/p.md:8:1: error: widgets/bad.py is not UTF-8 text (byte 0xe9): save it as UTF-8, as the browser's"
        " Python reads it (widgets/bad.py:6:37)")


def test_helper_module_that_is_not_utf8(wsite):
    (wsite.root / "widgets" / "helper.py").write_bytes("NAME = 'caf\xe9'\n".encode("latin-1"))
    wsite.widget("bad", kernel("return View('<svg/>', {'x': NAME})\n", imports="from helper import NAME"))
    assert one_error(wsite, "::: widget bad\n:::\n") == (
        "content/p.md:8:1: error: widgets/helper.py is not UTF-8 text (byte 0xe9): save it as UTF-8, as the browser's"
        " Python reads it (widgets/helper.py:1:12)")


@pytest.mark.parametrize("source, expected", [
    ("from labpress.kernel import View\nx = (\n", "syntax error in widget module: '(' was never closed (widgets/bad.py:2:5)"),
    ("from labpress.kernel import View\n\nreturn 5\n",
     "widget module 'bad' failed to load: SyntaxError: 'return' outside function (bad.py, line 3) (widgets/bad.py:3)"),
    ("import sys\nsys.exit(0)\n", "widget module 'bad' failed to load: SystemExit: 0 (widgets/bad.py:2)"),
    ("import sys\n\nsys.exit()\n", "widget module 'bad' failed to load: SystemExit (widgets/bad.py:3)"),
    ("raise KeyboardInterrupt\n", "widget module 'bad' failed to load: KeyboardInterrupt (widgets/bad.py:1)"),
    ("def f():\n    return f()\nf()\n",
     "widget module 'bad' failed to load: RecursionError: maximum recursion depth exceeded (widgets/bad.py:2)"),
    ("from helper import x\n", "widget module 'bad' failed to load: ZeroDivisionError: division by zero (widgets/helper.py:1)"),
    ("x = " + "1 + " * 100_000 + "1\n", None),
    ("x = 1\0\n", None),
    ("from labpress.kernel import Slider, View, widget\n@widget(k=Slider(0, 1, step=1e-300))\ndef bad(k):\n    pass\n",
     "widget module 'bad' failed to load: ControlError: slider step 1e-300 is too small for the range 0 to 1"
     " (more than 1e+15 steps); leave the step out for a continuous slider (widgets/bad.py:2)"),
    ("from labpress.kernel import Slider, View, widget\n@widget(k=Slider(-1e308, 1e308, step=1))\ndef bad(k):\n    pass\n",
     "widget module 'bad' failed to load: ControlError: slider step 1 is too small for the range -1e+308 to 1e+308"),
])
def test_module_failing_at_import(wsite, source, expected):
    (wsite.root / "widgets" / "helper.py").write_text("x = 1 / 0\n")
    (wsite.root / "widgets" / "bad.py").write_text(source)
    error = one_error(wsite, "::: widget bad\n:::\n")
    assert error.startswith("content/p.md:8:1: error: ") and ("widgets/bad.py" in error or "widgets/helper.py" in error), error
    if expected:
        assert error.startswith(f"content/p.md:8:1: error: {expected}"), error


def test_a_real_interrupt_during_a_kernel_still_stops_the_build(wsite):
    wsite.widget("bad", kernel("import signal\nsignal.raise_signal(signal.SIGINT)\nreturn View('<svg/>', {})\n"))
    result, _ = wsite.build_post(HEAD + "::: widget bad\n:::\n")
    assert result.returncode == 130, result.stderr
    assert not (wsite.out / "p").exists()


# 3. Time limits ------------------------------------------------------------------------------------------------------

LIMIT = "ran for more than 1 s (the limit is [limits] seconds_per_block in labpress.toml)"


@pytest.mark.parametrize("body, line", [
    ("while True:\n    pass\n", 7),
    ("import time\ntime.sleep(60)\n", 7),
    ("while True:\n    try:\n        sum(range(10 ** 6))\n    except Exception:\n        pass\n", 8),
    ("def f():\n    while True:\n        pass\nf()\n", 8),
])
def test_kernel_that_never_returns_is_stopped(wsite, body, line):
    wsite.config(FAST_LIMIT)
    wsite.widget("bad", kernel(body))
    started = time.perf_counter()
    error = one_error(wsite, "::: widget bad\n:::\n")
    assert time.perf_counter() - started < 15
    assert error.startswith(f"content/p.md:8:1: error: widget 'bad': kernel error: the kernel {LIMIT} (at widgets/bad.py:")
    assert re.search(r"\(at widgets/bad\.py:\d+\)$", error), error


def test_module_that_never_finishes_importing_is_stopped_once(wsite):
    wsite.config(FAST_LIMIT)
    wsite.widget("bad", "while True:\n    pass\n")
    started = time.perf_counter()
    errors = failed(wsite, "::: widget bad\n:::\n\n::: widget bad\n:::\n")
    assert time.perf_counter() - started < 15
    message = f"error: widget module 'bad' {LIMIT.replace(' (', ' while loading (')}"
    # Reported once, at its first use (see tests/test_no_cascade.py), and not imported again.
    assert [re.sub(r"bad\.py:[12]\)$", "bad.py:N)", e) for e in errors] == [
        f"content/p.md:8:1: {message} (widgets/bad.py:N)"]


def test_helper_that_never_finishes_importing_names_the_helper(wsite):
    wsite.config(FAST_LIMIT)
    wsite.widget("slow", "import time\ntime.sleep(60)\n")
    wsite.widget("bad", kernel("return View('<svg/>', {})\n", imports="import slow"))
    error = one_error(wsite, "::: widget bad\n:::\n")
    assert error == f"content/p.md:8:1: error: widget module 'bad' {LIMIT.replace(' (', ' while loading (')} (widgets/slow.py:2)"


def test_slow_precomputation_falls_back_to_live_frames(wsite):
    wsite.config(FAST_LIMIT)
    # The first frame is quick; the other 20 states take 0.2 s each, 4 s together: more than the limit.
    wsite.widget("slow", '''
    import time
    from labpress.kernel import Slider, View, widget

    @widget(k=Slider(0, 20, step=1))
    def slow(k):
        if k:
            time.sleep(0.2)
        return View("<svg/>", {"k": k})
    ''')
    started = time.perf_counter()
    result, html = build(wsite, "::: widget slow\n:::\n\n::: widget slow\n:::\n")
    assert result.returncode == 0, result.stderr
    assert time.perf_counter() - started < 10  # one budget for both uses of the same widget and caption
    assert '<output data-readout="k">0.000</output>' in html and "data-frames" not in html


def test_quick_precomputation_still_writes_frames(wsite):
    wsite.config(FAST_LIMIT)
    result, html = build(wsite, "::: widget toy\np: [0, 0]\n:::\n")
    assert result.returncode == 0, result.stderr
    assert "data-frames" not in html  # a Point: continuous
    wsite.widget("grid", '''
    from labpress.kernel import Slider, Toggle, View, widget

    @widget(k=Slider(0, 1, step=0.25), on=Toggle())
    def grid(k, on):
        return View("<svg/>", {"k": k})
    ''')
    result, html = build(wsite, "::: widget grid\n:::\n")
    assert result.returncode == 0, result.stderr
    url = re.search(r'data-frames="/(assets/frames/grid\.[0-9a-f]{10}\.json)"', html).group(1)
    assert len(json.loads((wsite.out / url).read_text())["frames"]) == 10


# 4. State spaces too large to list -----------------------------------------------------------------------------------

@pytest.mark.parametrize("controls, override", [
    ("k=Slider(0, 1000, step=1e-6)", "k: 500.5"),
    ("k=Slider(0, 1e11, step=0.001)", "k: 7"),
    ("k=Seed(rolls=10 ** 12)", "k: 123456789"),
    ("a=Slider(0, 1, step=0.001), b=Slider(0, 1, step=0.001), c=Seed(rolls=1000)", "a: 0.5"),
])
def test_huge_state_spaces_are_live_only_and_quick(wsite, controls, override):
    names = re.findall(r"(\w+)=\w+\(", controls)
    wsite.widget("big", f'''
    from labpress.kernel import Seed, Slider, View, widget

    @widget({controls})
    def big({", ".join(names)}):
        return View("<svg/>", {{"v": {names[0]}}})
    ''')
    started = time.perf_counter()
    result, html = build(wsite, f"::: widget big\n{override}\n:::\n")
    assert time.perf_counter() - started < 10
    assert result.returncode == 0, result.stderr
    assert "data-frames" not in html and '<output data-readout="v">' in html


def test_large_slider_values_are_checked_without_listing_them(wsite):
    wsite.widget("big", '''
    from labpress.kernel import Slider, View, widget

    @widget(k=Slider(0, 1000, step=1e-6))
    def big(k):
        return View("<svg/>", {"v": k})
    ''')
    assert one_error(wsite, "::: widget big\nk: 1001\n:::\n") == (
        "content/p.md:9:4: error: widget 'big': 'k' must be between 0 and 1000, not 1001")


@pytest.mark.parametrize("settings", [
    "k: &a [*a]",  # a list that holds itself
    "x: &a [[[[[[1]]]]]]\nk: [[[[*a]]]]",  # deep only through the alias
])
def test_nesting_through_aliases_is_counted(wsite, settings):
    errors = failed(wsite, f"::: widget toy\n{settings}\n:::\n")
    assert any(":4: error: the value of 'k' nests more than 8 levels deep" in e for e in errors), errors


# 5. Formulas --------------------------------------------------------------------------------------------------------

MATH_HEAD = "---\ntitle: M\ndate: 2026-01-01\n---\n\n"  # the first body line is line 6


@pytest.mark.parametrize("body, expected", [
    ("Inline $" + "x" * 101 + "$ here.\n", "content/p.md:8:8: error: formula is 101 characters long, more than 100"),
    ("Text.\n\n$$\n" + "x+" * 60 + "\n$$\n", "content/p.md:10:1: error: formula is 122 characters long, more than 100"),
    ("A $$" + "y" * 200 + "$$ display.\n", "content/p.md:8:3: error: formula is 200 characters long, more than 100"),
])
def test_formula_longer_than_the_limit(site, body, expected):
    site.config('title = "T"\n[limits]\nformula_chars = 100\n')
    site.post("p.md", MATH_HEAD + "Short $x$ is fine.\n\n" + body)  # the body from line 8
    result = site.build()
    assert result.returncode == 1, result.stderr
    assert "internal error" not in result.stderr and "Traceback" not in result.stderr
    assert result.errors == [expected + " (the limit is [limits] formula_chars in labpress.toml)"]


def test_the_default_formula_limit_is_ten_thousand_characters(site):
    started = time.perf_counter()
    site.post("p.md", MATH_HEAD + "$" + "x" * 100_001 + "$\n")
    result = site.build()
    assert time.perf_counter() - started < 20
    assert result.returncode == 1, result.stderr
    assert result.errors == ["content/p.md:6:1: error: formula is 100,001 characters long, more than 10,000"
                             " (the limit is [limits] formula_chars in labpress.toml)"]


@pytest.mark.parametrize("tex", ["{" * 4000 + "x" + "}" * 4000, "\\frac{1}{" * 900 + "x" + "}" * 900])
def test_deeply_nested_formula_is_an_error_not_a_crash(site, tex):
    site.post("p.md", MATH_HEAD + "Deep $" + tex + "$.\n")
    started = time.perf_counter()
    result = site.build()
    assert time.perf_counter() - started < 20
    assert result.returncode == 1, result.stderr
    assert "internal error" not in result.stderr and "Traceback" not in result.stderr
    assert len(result.errors) == 1 and result.errors[0].startswith("content/p.md:6:"), result.errors
    assert "KaTeX:" in result.errors[0] and len(result.errors[0]) < 300
