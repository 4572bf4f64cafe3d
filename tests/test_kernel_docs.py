"""docs/widgets.md documents the whole widget API (labpress.kernel): each check below fails on a real omission.

What "documented" means here (prose only: text inside fenced code blocks does not count):

* every public name of ``labpress.kernel`` (its ``__all__`` and any other public non-module attribute, plus
  ``labpress.kernel.widget.__all__``) is named in an inline code span: `Figure`, `Figure(...)`, `x.Figure`;
* every control class, `Figure`, `LinearScale`, `View`, `Frame`, `KernelError`, every exported function, and every
  public method of the non-control classes has a heading holding its real signature in a code span, defaults
  included (`Slider(min, max, value=None, ...)`, `fig.line(x1, y1, x2, y2, cls="lp-s1")`), and the text under that
  heading names each of its parameters in a code span (`min`, `step=0.1`, `**controls`);
* the control base class's section names each of its public methods;
* every class selector of the theme's widgets.css, and every `lp-` class the SVG builder writes, is named in a code
  span (`lp-s1` or `.lp-s1`); the `lp-` classes in the "Style classes" section;
* the `[widgets]` settings and `[limits] seconds_per_block` appear with their real defaults in a TOML block, and the
  standard-library modules kernels may not import are listed in the imports section;
* the examples are real: Python blocks compile, those defining a widget render at their defaults, and ``pycon``
  blocks pass as doctests.

The last tests remove one item from the text and check that the matching rule notices.
"""

from __future__ import annotations

import dataclasses
import doctest
import importlib
import inspect
import re
import types
from pathlib import Path

import pytest

import labpress.kernel as kernel
from labpress.config import schema
from labpress.kernel import Control, render_frame
from labpress.widgets.library import NOT_IN_PYODIDE

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "widgets.md"
WIDGETS_CSS = ROOT / "themes" / "default" / "static" / "widgets.css"
SVG_SOURCE = Path(kernel.__file__).parent / "svg.py"
# Not `import labpress.kernel.widget as ...`: the package's attribute `widget` is the decorator, not the module.
kernel_widget = importlib.import_module("labpress.kernel.widget")

# Made by @widget, never by an author: its constructor's signature is not part of the API.
NOT_CONSTRUCTED = {"Widget"}


# Reading the document ---------------------------------------------------------------------------------------------

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})\s*([\w-]*)")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
# An inline code span: a run of backticks, content, the same run (CommonMark); paragraphs never join.
_SPAN = re.compile(r"(?<!`)(`+)(?!`)((?:(?!\n[ \t]*\n).)+?)(?<!`)\1(?!`)", re.S)


@dataclasses.dataclass
class Section:
    level: int  # 0 for the text before the first heading
    heading: str
    body: str  # prose under the heading, up to the next heading of any level
    tree: str = ""  # prose under the heading, up to the next heading of the same or a higher level


@dataclasses.dataclass
class Doc:
    sections: list[Section]
    blocks: list[tuple[str, str]]  # (info string's language, content) of each fenced block

    @property
    def prose(self) -> str:
        return "\n".join(s.heading + "\n" + s.body for s in self.sections)


def spans(text: str) -> list[str]:
    return [" ".join(m.group(2).split()) for m in _SPAN.finditer(text)]


def parse(text: str) -> Doc:
    sections = [Section(0, "", "")]
    blocks: list[tuple[str, str]] = []
    fence = None
    body: list[str] = []
    for line in text.splitlines():
        if fence:
            if re.match(rf"^ {{0,3}}{fence[0][0]}{{{len(fence[0])},}}\s*$", line):
                blocks.append((fence[1], "\n".join(body) + "\n"))
                fence, body = None, []
            else:
                body.append(line)
            continue
        opening = _FENCE.match(line)
        if opening:
            fence, body = (opening.group(1), opening.group(2)), []
            sections[-1].body += "\n"  # a code block ends a paragraph
            continue
        heading = _HEADING.match(line)
        if heading:
            sections.append(Section(len(heading.group(1)), heading.group(2), ""))
        else:
            sections[-1].body += line + "\n"
    for i, section in enumerate(sections):
        tree = [section.body]
        for later in sections[i + 1:]:
            if section.level and later.level <= section.level:
                break
            tree.append(later.heading + "\n" + later.body)
        section.tree = "\n".join(tree)
    return Doc(sections, blocks)


def names_it(span: str, name: str) -> bool:
    """Whether a code span names ``name``: `name`, `name(...)`, `a.b.name`, `@name(...)`."""
    return re.fullmatch(rf"(?:@|(?:\w+\.)+)?{re.escape(name)}(?:\(.*\))?", span, re.S) is not None


def mentions_parameter(span: str, parameter: str) -> bool:
    """Whether a code span names a parameter: `step`, `step=0.1`, `**controls`, `domain = (d0, d1)`."""
    return re.match(rf"\**{re.escape(parameter)}(?!\w)", span) is not None


# The API, from the source --------------------------------------------------------------------------------------------

def public_names() -> list[str]:
    exported = set(getattr(kernel, "__all__", ()))
    exported |= {name for name, value in vars(kernel).items()
                 if not name.startswith("_") and not isinstance(value, types.ModuleType)}
    exported |= set(kernel_widget.__all__)
    return sorted(exported)


def api_object(name: str):
    return getattr(kernel, name) if hasattr(kernel, name) else getattr(kernel_widget, name)


def _number(value) -> str:
    return str(int(value)) if float(value).is_integer() else repr(value)


def _literal(value) -> str:
    if isinstance(value, str) and '"' not in value and "\\" not in value:
        return f'"{value}"'
    return repr(value)


def parameters(func, owner=None) -> list[tuple[str, str]]:
    """(name as written in a signature, name) of each parameter; a dataclass's factories shown as their value."""
    factories = {}
    if owner is not None and dataclasses.is_dataclass(owner):
        factories = {f.name: f.default_factory() for f in dataclasses.fields(owner)
                     if f.default_factory is not dataclasses.MISSING}
    out = []
    for p in inspect.signature(func).parameters.values():
        if p.kind is p.VAR_POSITIONAL:
            out.append((f"*{p.name}", p.name))
        elif p.kind is p.VAR_KEYWORD:
            out.append((f"**{p.name}", p.name))
        elif p.name in factories:
            out.append((f"{p.name}={_literal(factories[p.name])}", p.name))
        elif p.default is p.empty:
            out.append((p.name, p.name))
        else:
            out.append((f"{p.name}={_literal(p.default)}", p.name))
    return out


def _own_init(cls) -> bool:
    return any("__init__" in vars(klass) for klass in cls.__mro__ if klass.__module__.startswith("labpress."))


def public_methods(cls) -> list[str]:
    return sorted(name for name, value in vars(cls).items() if not name.startswith("_") and inspect.isfunction(value))


def control_classes() -> list[type]:
    return [api_object(name) for name in public_names()
            if isinstance(api_object(name), type) and issubclass(api_object(name), Control)]


def signed() -> list[tuple[str, str, list[str]]]:
    """(what, signature, parameter names) of each callable whose signature the document must show."""
    out = []
    for name in public_names():
        obj = api_object(name)
        if inspect.isfunction(obj):
            params = parameters(obj)
            out.append((name, f"{name}({', '.join(w for w, _ in params)})", [n for _, n in params]))
        elif isinstance(obj, type):
            if name not in NOT_CONSTRUCTED and _own_init(obj):
                params = parameters(obj, obj)
                out.append((name, f"{name}({', '.join(w for w, _ in params)})", [n for _, n in params]))
            if issubclass(obj, (Control, BaseException)):
                continue  # a control's methods: control_method_problems
            for method in public_methods(obj):
                params = parameters(getattr(obj, method))[1:]  # not self
                out.append((f"{name}.{method}", f"{method}({', '.join(w for w, _ in params)})", [n for _, n in params]))
    return out


def css_classes() -> list[str]:
    css = re.sub(r"/\*.*?\*/", "", WIDGETS_CSS.read_text(encoding="utf-8"), flags=re.S)
    found: list[str] = []
    for match in re.finditer(r"([^{}]*)\{", css):
        selector = match.group(1).rpartition(";")[2].strip()
        if selector.startswith("@"):
            continue
        for name in re.findall(r"\.(-?[A-Za-z_][\w-]*)", selector):
            if name not in found:
                found.append(name)
    return found


def style_classes() -> list[str]:
    """Every class of widgets.css, and every lp- class the SVG builder writes itself."""
    written = re.findall(r"[\"'](lp-[\w-]+)[\"']", SVG_SOURCE.read_text(encoding="utf-8"))
    return list(dict.fromkeys(css_classes() + written))


# The rules -------------------------------------------------------------------------------------------------------

def _sections_for(doc: Doc, signature: str) -> list[Section]:
    pattern = re.compile(rf"(?:@|\w+\.)?{re.escape(signature)}")
    return [s for s in doc.sections if s.level and any(pattern.fullmatch(span) for span in spans(s.heading))]


def name_problems(text: str) -> list[str]:
    all_spans = spans(parse(text).prose)
    return [name for name in public_names() if not any(names_it(span, name) for span in all_spans)]


def signature_problems(text: str) -> list[str]:
    doc = parse(text)
    problems = []
    for what, signature, params in signed():
        found = _sections_for(doc, signature)
        if not found:
            problems.append(f"{what}: no heading with `{signature}`")
            continue
        body = spans(found[0].body)
        problems += [f"{what}: parameter `{p}` not named under its heading"
                     for p in params if not any(mentions_parameter(span, p) for span in body)]
    return problems


def control_method_problems(text: str) -> list[str]:
    doc = parse(text)
    problems = []
    base = set(public_methods(Control))
    for cls in control_classes():
        signature = next(sig for what, sig, _ in signed() if what == cls.__name__)
        found = _sections_for(doc, signature)
        methods = public_methods(cls) if cls is Control else [m for m in public_methods(cls) if m not in base]
        body = spans(found[0].body) if found else []
        problems += [f"{cls.__name__}.{m} not named in its section" for m in methods
                     if not any(names_it(span, m) for span in body)]
    return problems


def class_problems(text: str) -> list[str]:
    doc = parse(text)
    everywhere = set(spans(doc.prose))
    style = [s for s in doc.sections if s.level and s.heading.strip().lower() == "style classes"]
    in_style = set(spans(style[0].tree)) if style else set()
    problems = []
    for name in style_classes():
        where = in_style if name.startswith("lp-") else everywhere
        if name not in where and f".{name}" not in where:
            problems.append(name + (" (in the Style classes section)" if name.startswith("lp-") else ""))
    return problems


def settings_problems(text: str) -> list[str]:
    doc = parse(text)
    toml = "\n".join(content for lang, content in doc.blocks if lang == "toml")
    expected = {
        "widgets": {"max_states": schema.DEFAULT_MAX_STATES, "max_frame_bytes": schema.DEFAULT_MAX_FRAME_BYTES},
        "limits": {"seconds_per_block": schema.DEFAULT_SECONDS_PER_BLOCK},
    }
    problems = []
    if set(expected["widgets"]) != set(schema._WIDGETS):
        problems.append(f"[widgets] has the keys {sorted(schema._WIDGETS)}: update this test and the document")
    prose = set(spans(doc.prose))
    for table, keys in expected.items():
        for key, default in keys.items():
            pattern = rf"^\[{table}\]\n(?:(?!\[).*\n)*?{key} = {_number(default)}\s*(?:#.*)?$"
            if not re.search(pattern, toml, re.M):
                problems.append(f"[{table}] {key} = {_number(default)} is not in a toml block")
            if key not in prose:
                problems.append(f"`{key}` is not explained in the text")
    imports = [s for s in doc.sections if s.heading.strip().lower().startswith("what a kernel may import")]
    listed = set(spans(imports[0].tree)) if imports else set()
    problems += [f"`{module}` (not in Pyodide) is not listed" for module in sorted(NOT_IN_PYODIDE) if module not in listed]
    return problems


# The document as it is -------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def text() -> str:
    return DOC.read_text(encoding="utf-8")


def test_the_api_is_what_these_rules_expect():
    """The rules cover something: if the API moves (a class renamed away), these numbers say so first."""
    assert {"Figure", "Slider", "Toggle", "Choice", "Point", "Seed", "View", "widget"} <= set(public_names())
    assert len(control_classes()) >= 6
    figure_methods = [what for what, _, _ in signed() if what.startswith("Figure.")]
    assert len(figure_methods) >= 11, figure_methods
    assert {"lp-s1", "lp-s4", "lp-fill-1", "lp-muted", "lp-handle", "widget-status"} <= set(style_classes())


def test_every_public_name_is_documented(text):
    assert name_problems(text) == []


def test_every_signature_and_parameter_is_documented(text):
    assert signature_problems(text) == []


def test_the_control_base_class_methods_are_documented(text):
    assert control_method_problems(text) == []


def test_every_style_class_is_documented(text):
    assert class_problems(text) == []


def test_settings_and_import_rules_are_documented(text):
    assert settings_problems(text) == []


def test_python_examples_compile_and_widgets_render(text):
    blocks = [content for lang, content in parse(text).blocks if lang == "python"]
    assert blocks
    rendered = 0
    for i, source in enumerate(blocks):
        code = compile(source, f"docs/widgets.md:python-block-{i + 1}", "exec")
        if "@widget" not in source:
            continue
        namespace: dict = {"__name__": f"doc_example_{i}"}
        exec(code, namespace)
        found = [value for value in namespace.values() if isinstance(value, kernel.Widget)]
        assert len(found) == 1, f"block {i + 1} defines {len(found)} widgets"
        declared = re.search(r"^# widgets/(\w+)\.py", source, re.M)
        if declared:
            assert found[0].name == declared.group(1)
        frame = render_frame(found[0], {})
        assert frame.svg.startswith("<svg") and frame.svg.endswith("</svg>")
        rendered += 1
    assert rendered >= 2


def test_pycon_examples_are_true(text):
    parser, runner = doctest.DocTestParser(), doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    blocks = [content for lang, content in parse(text).blocks if lang == "pycon"]
    assert len(blocks) >= 3
    for i, source in enumerate(blocks):
        test = parser.get_doctest(source, {}, f"pycon-block-{i + 1}", "docs/widgets.md", 0)
        assert test.examples, f"pycon block {i + 1} has no examples"
        result = runner.run(test, out=lambda _: None)
        assert result.failed == 0, f"pycon block {i + 1}: {result.failed} of {result.attempted} examples fail"


def test_internal_links_lead_to_headings(text):
    """The signature headings are link targets; an edited heading must not leave links dangling."""
    def anchor(heading: str) -> str:
        plain = re.sub(r"[^\w\- ]", "", heading.replace("`", "").strip().lower())
        return plain.replace(" ", "-")

    anchors = {anchor(s.heading) for s in parse(text).sections if s.level}
    targets = re.findall(r"\]\(#([^)]+)\)", parse(text).prose)
    assert targets
    assert [t for t in targets if t not in anchors] == []
    for other in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        elsewhere = re.findall(r"widgets\.md#([^)\s]+)", other.read_text(encoding="utf-8"))
        assert [t for t in elsewhere if t not in anchors] == [], other.name


# The rules catch an omission -------------------------------------------------------------------------------------

def _unformatted(text: str, predicate) -> str:
    """``text`` with the code spans ``predicate`` picks turned into plain text (the backticks removed)."""
    return _SPAN.sub(lambda m: m.group(2) if predicate(" ".join(m.group(2).split())) else m.group(0), text)


def test_a_missing_name_is_caught(text):
    assert name_problems(_unformatted(text, lambda s: names_it(s, "Seed"))) == ["Seed"]
    assert "render_json" in name_problems(_unformatted(text, lambda s: names_it(s, "render_json")))


def test_a_missing_or_wrong_signature_is_caught(text):
    wrong = text.replace('`fig.bar(x, value, width, base=0.0, cls="lp-s1")`', '`fig.bar(x, value, width, base=0, cls="lp-s1")`')
    assert wrong != text
    assert signature_problems(wrong) == ['Figure.bar: no heading with `bar(x, value, width, base=0.0, cls="lp-s1")`']
    gone = text.replace('#### `fig.to_svg()`', '#### To SVG')
    assert gone != text and signature_problems(gone) == ["Figure.to_svg: no heading with `to_svg()`"]


def test_a_missing_parameter_is_caught(text):
    doc = parse(text)
    slider = _sections_for(doc, next(sig for what, sig, _ in signed() if what == "Slider"))[0]
    without_unit = _unformatted(slider.body, lambda s: mentions_parameter(s, "unit"))
    assert without_unit != slider.body and text.count(slider.body) == 1
    assert signature_problems(text.replace(slider.body, without_unit)) == ["Slider: parameter `unit` not named under its heading"]


def test_a_missing_control_method_is_caught(text):
    assert control_method_problems(_unformatted(text, lambda s: names_it(s, "index_of"))) == ["Control.index_of not named in its section"]


def test_a_missing_style_class_is_caught(text):
    assert class_problems(_unformatted(text, lambda s: s in ("lp-fill-3", ".lp-fill-3"))) == ["lp-fill-3 (in the Style classes section)"]
    assert class_problems(_unformatted(text, lambda s: s == "is-static")) == ["is-static"]


def test_a_wrong_setting_is_caught(text):
    assert settings_problems(text.replace("max_states = 512\n", "max_states = 256\n")) == [
        f"[widgets] max_states = {schema.DEFAULT_MAX_STATES} is not in a toml block"]
    assert settings_problems(_unformatted(text, lambda s: s == "subprocess")) == ["`subprocess` (not in Pyodide) is not listed"]


def test_a_false_example_is_caught(text):
    assert "'0.250'" in text
    broken = text.replace("'0.250'", "'0.25'", 1)
    with pytest.raises(AssertionError):
        test_pycon_examples_are_true(broken)
