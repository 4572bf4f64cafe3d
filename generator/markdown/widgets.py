"""``::: widget NAME`` blocks: YAML overrides and a caption in, the kernel's first frame out."""

from __future__ import annotations

from markdown_it import MarkdownIt

from ..widgets import ControlError, KernelError, WidgetLoadError, WidgetUse, instance_html, run_widget


def widgets_plugin(md: MarkdownIt) -> None:
    md.core.ruler.push("labpress_widgets", _run_widgets)
    md.add_render_rule("labpress_widget", lambda self, tokens, idx, options, env: tokens[idx].meta.get("html", ""))


def _parse_body(meta: dict, sink) -> tuple[dict, str, dict] | None:
    """(overrides, caption, positions of keys) from the block's YAML body."""
    first = meta["body_line"]
    indent = meta["indent"]
    body = meta["body"]
    if not body.strip():
        return {}, "", {}
    import yaml  # here: most posts have no widget overrides

    loader = yaml.SafeLoader(body)
    try:
        node = loader.get_single_node()
        # Keys are taken as written: YAML 1.1 would turn a control named 'on' or 'yes' into True.
        pairs = ([(k.value, loader.construct_object(v, deep=True)) for k, v in node.value]
                 if isinstance(node, yaml.MappingNode) else None)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        sink.add(first + (mark.line if mark else 0), indent + (mark.column + 1 if mark else 1),
                 f"widget settings are not valid YAML: {exc.problem or exc.context}")
        return None
    finally:
        loader.dispose()
    if pairs is None:
        sink.add(first, indent + 1, "a widget block holds 'control: value' lines and an optional 'caption: ...'")
        return None
    values = dict(pairs)
    positions = {k.value: (first + k.start_mark.line, indent + v.start_mark.column + 1) for k, v in node.value}
    positions.update({("key", k.value): (first + k.start_mark.line, indent + k.start_mark.column + 1) for k, v in node.value})
    caption = values.pop("caption", "")
    if not isinstance(caption, str):
        sink.add(*positions["caption"], "the widget caption must be text")
        return None
    return values, caption, positions


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
        overrides, caption, positions = parsed
        count = env.setdefault("widget_count", {})
        count[name] = count.get(name, 0) + 1
        element_id = f"widget-{name.replace('_', '-')}-{count[name]}"
        try:
            instance = run_widget(library, name, overrides, caption, element_id)
        except WidgetLoadError as exc:
            where = f" ({exc.where})" if exc.where else ""
            sink.add(line, col + 10 if exc.message.startswith("unknown widget") else col, exc.message + where)
            continue
        except ControlError as exc:
            bad = next((k for k in overrides if f"'{k}'" in str(exc)), None)
            unknown = bad is not None and bad not in library.load(name).widget.controls
            at = positions.get(("key", bad) if unknown else bad, (line, col))
            sink.add(*at, f"widget '{name}': {exc}")
            continue
        except KernelError as exc:
            where = f" (at {library.shown_location(exc.where)})" if exc.where else ""
            sink.add(line, col, f"widget '{name}': kernel error: {exc.message}{where}")
            continue
        meta["html"] = instance_html(instance, env["url"])
        env.setdefault("widgets", []).append(WidgetUse.of(instance))
