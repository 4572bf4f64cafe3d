"""``::: widget NAME`` blocks: YAML overrides and a caption in, the kernel's first frame out.

``label: fig-name`` in the body labels the widget as a figure (numbered with the figure blocks,
``@fig-name`` refers to it: markdown/xref.py; the label is then the figure's id). A widget whose
kernel has a control named ``label`` keeps ``label:`` for that control; its figure label is then
written ``figure-label: fig-name`` (accepted on any widget: no control name has a hyphen).
"""

from __future__ import annotations

from markdown_it import MarkdownIt

from labpress.errors import shorten
from labpress.markdown.xref import xref_slot
from labpress.widgets.library import (ControlError, KernelError, WidgetLoadError, WidgetUse, check_overrides,
                                      instance_html, load_error_text, run_widget)


def widgets_plugin(md: MarkdownIt) -> None:
    md.core.ruler.push("labpress_widgets", _run_widgets)
    md.add_render_rule("labpress_widget", lambda self, tokens, idx, options, env: tokens[idx].meta.get("html", ""))


# A control's value is a scalar or a point [x, y]; deeper nesting is a mistake (and
# PyYAML's constructor recurses: a few hundred levels would overflow the stack).
MAX_DEPTH = 8


def _too_deep(node) -> bool:
    """Whether ``node`` nests lists or mappings more than MAX_DEPTH deep, walked without recursion
    (a node reached again through an alias is walked again only when deeper: at most MAX_DEPTH times)."""
    import yaml

    stack, deepest = [(node, 1)], {}  # id(node) -> the deepest level it was walked at
    while stack:
        current, depth = stack.pop()
        if isinstance(current, yaml.ScalarNode) or deepest.get(id(current), 0) >= depth:
            continue
        if depth > MAX_DEPTH:  # also ends an alias cycle, such as &a [*a]
            return True
        deepest[id(current)] = depth
        if isinstance(current, yaml.SequenceNode):
            stack.extend((child, depth + 1) for child in current.value)
        elif isinstance(current, yaml.MappingNode):
            stack.extend((child, depth + 1) for pair in current.value for child in pair)
    return False


def _parse_body(meta: dict, sink) -> tuple[dict, str, dict, bool] | None:
    """(overrides, caption, positions of keys, whether all of it was read) from the block's YAML body;
    None when it is not a mapping at all. A setting that cannot be read is reported and left out, so
    the others are still checked (every problem of a body in one run)."""
    first = meta["body_line"]
    indent = meta["indent"]
    body = meta["body"]
    if not body.strip():
        return {}, "", {}, True
    import yaml  # here: most posts have no widget overrides

    def offset(index: int) -> tuple[int, int]:
        """The post's line and column of a character of the body (YAML also breaks lines at NEL,
        U+2028 and U+2029; a post's lines end at newlines only)."""
        start = body.rfind("\n", 0, index) + 1
        return first + body.count("\n", 0, index), indent + index - start + 1

    at = lambda mark: offset(mark.index)
    loader = None
    try:
        try:
            loader = yaml.SafeLoader(body)
            node = loader.get_single_node()
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            sink.add(*(at(mark) if mark else (first, indent + 1)),
                     f"widget settings are not valid YAML: {shorten(str(exc.problem or exc.context), 120)}")
            return None
        except yaml.reader.ReaderError as exc:  # a character YAML does not allow (a control character)
            sink.add(*offset(exc.position), f"widget settings cannot hold the character U+{exc.character:04X}"
                     if isinstance(exc.character, int) else "widget settings are not readable text")
            return None
        except RecursionError:
            sink.add(*at(loader.get_mark()), "widget settings nest too deeply (a control takes a value or a point [x, y])")
            return None
        if not isinstance(node, yaml.MappingNode):
            sink.add(first, indent + 1, "a widget block holds 'control: value' lines and an optional 'caption: ...'")
            return None
        values: dict = {}
        positions: dict = {}
        ok = True
        for key, value in node.value:
            # Keys are taken as written: YAML 1.1 would turn a control named 'on' or 'yes' into True.
            if not isinstance(key, yaml.ScalarNode):
                sink.add(*at(key.start_mark), "a widget setting is named by a control name, not a list or a mapping")
                ok = False
                continue
            name = key.value
            if name in values or ("key", name) in positions:
                sink.add(*at(key.start_mark), f"'{shorten(name, 40)}' is set twice in this widget block")
                ok = False
                continue
            positions[name] = at(value.start_mark)
            positions[("key", name)] = at(key.start_mark)
            if _too_deep(value):
                sink.add(*at(value.start_mark), f"the value of '{shorten(name, 40)}' nests more than {MAX_DEPTH} levels deep"
                         " (a control takes a value or a point [x, y])")
                ok = False
                continue
            try:
                values[name] = loader.construct_object(value, deep=True)
            except yaml.MarkedYAMLError as exc:
                mark = exc.problem_mark or value.start_mark
                sink.add(*at(mark), f"the value of '{shorten(name, 40)}' cannot be read: {shorten(str(exc.problem or exc.context), 120)}")
                ok = False
            except (ValueError, TypeError, OverflowError, RecursionError, MemoryError) as exc:
                # YAML reads it, Python cannot build it: the date 2026-13-01, a 5,000-digit number
                problem = str(exc)
                if "integer string conversion" in problem:
                    problem = f"a number of {len(value.value)} digits is more than Python reads"
                sink.add(*at(value.start_mark), f"the value of '{shorten(name, 40)}' cannot be read: {shorten(problem, 120)}")
                ok = False
    finally:
        if loader is not None:
            loader.dispose()
    caption = values.pop("caption", "")
    if not isinstance(caption, str):
        sink.add(*positions["caption"], "the widget caption must be text")
        caption, ok = "", False
    return values, caption, positions, ok


def _about(name: str, problem) -> str:
    """A control's problem, named for its widget once (the kernel's own message may already say which)."""
    text = str(problem)
    return text if text.startswith(f"widget '{name}' ") else f"widget '{name}': {text}"


def _run_widgets(state) -> None:
    env = state.env
    library = env.get("widget_library")
    sink = env["sink"]
    for token in state.tokens:
        if token.type != "labpress_widget":
            continue
        meta = token.meta
        line, col = token.map[0] + 1, meta["col"]
        name = meta["widget"]
        if library is None:  # pragma: no cover - the build always provides one
            sink.add(line, col, "widgets are not available here")
            continue
        parsed = _parse_body(meta, sink)
        if parsed is None:
            continue
        overrides, caption, positions, ok = parsed
        label = _take_label(library, name, overrides, positions, sink)
        ok = ok and label is not False
        seconds = library.limits.seconds or env["config"].seconds_per_block
        try:
            loaded = library.load(name, seconds)
        except WidgetLoadError as exc:
            _load_failed(env, sink, exc, line, col)
            continue
        # Every setting checked, each problem at its own line: all of them in one run.
        problems = check_overrides(loaded.widget, overrides)
        for problem in problems:
            bad = problem.control
            at = positions.get(("key", bad) if bad not in loaded.widget.controls else bad, (line, col))
            sink.add(*at, _about(name, problem))
        if problems or not ok:
            continue
        count = env.setdefault("widget_count", {})
        count[name] = count.get(name, 0) + 1
        element_id = label[0] if label else f"widget-{name.replace('_', '-')}-{count[name]}"
        try:
            instance = run_widget(library, name, overrides, caption, element_id, seconds)
        except WidgetLoadError as exc:
            _load_failed(env, sink, exc, line, col)
            continue
        except ControlError as exc:
            bad = getattr(exc, "control", "")
            unknown = bad not in library.load(name).widget.controls
            at = positions.get(("key", bad) if unknown else bad, (line, col))
            sink.add(*at, _about(name, exc))
            continue
        except KernelError as exc:
            where = f" (at {library.shown_location(exc.where)})" if exc.where else ""
            sink.add(line, col, f"widget '{name}': kernel error: {exc.message}{where}")
            continue
        meta["html"] = instance_html(instance, env["url"])
        if label:
            meta["xref_label"] = (label[0], *label[1])
            meta["html"] = _numbered(meta["html"], xref_slot(label[0], bool(instance.caption)))
        # What the kernel read (data files): the post is rendered again when one changes, and the
        # files ship with the kernels for the browser.
        read = library.inputs(instance.loaded)
        found = env.setdefault("inputs", [])
        for kind, relative, digest in read:
            entry = (kind, str(library.site_dir / relative), digest)
            if entry not in found:
                found.append(entry)
        shipped = tuple(relative for kind, relative, digest in read if kind == "file" and digest is not None)
        env.setdefault("widgets", []).append(WidgetUse.of(instance, shipped))


def _load_failed(env, sink, exc: WidgetLoadError, line: int, col: int) -> None:
    """A widget module that cannot be used: reported at the block, once per post however many blocks use
    it (and once per build: site/pipeline.py keeps the first use, widgets.library.once_per_kernel)."""
    if exc.message.startswith("unknown widget"):
        sink.add(line, col + 10, exc.message)  # at the name, which is the mistake
        return
    text = load_error_text(exc)
    reported = env.setdefault("widget_load_errors", set())
    if text not in reported:
        reported.add(text)
        sink.add(line, col, text)


def _take_label(library, name: str, overrides: dict, positions: dict, sink):
    """(label, its position) of a widget block, taken out of its overrides; None without one, False
    after an error. ``label`` is the figure's label unless the kernel has a control of that name."""
    keys = [key for key in ("figure-label", "label") if key in overrides]
    if "label" in keys:
        try:
            controls = library.load(name).widget.controls
        except Exception:  # the widget does not load: run_widget reports why
            controls = {}
        if "label" in controls:
            keys.remove("label")
    if not keys:
        return None
    if len(keys) == 2:
        sink.add(*positions[("key", "label")], "a widget has one figure label: 'figure-label' or 'label', not both")
        for key in keys:
            overrides.pop(key)
        return False
    key = keys[0]
    value = overrides.pop(key)
    if not isinstance(value, str) or not value.strip():
        sink.add(*positions[key], f"'{key}' is the widget's figure label, as in '{key}: fig-noise'")
        return False
    return value.strip(), positions[key]


def _numbered(html: str, slot: str) -> str:
    """The widget's caption with its "Figure 1:" before it. The caption itself stays the element
    the browser runtime rewrites (.widget-caption), so the number is outside it."""
    opening = '<figcaption class="widget-caption">'
    if opening in html:
        before, _, after = html.partition(opening)
        text, _, rest = after.partition("</figcaption>")
        return (f'{before}<figcaption class="widget-figcaption">{slot}<span class="widget-caption">{text}</span>'
                f"</figcaption>{rest}")
    before, _, rest = html.rpartition("</figure>")
    return f'{before}<figcaption class="widget-figcaption">{slot}</figcaption>\n</figure>{rest}'
