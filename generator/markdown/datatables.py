"""``::: table PATH`` blocks: a data table read from a CSV, TSV or JSON file in the site folder.

The fence names the file (relative to the site folder); the block's body is YAML options::

    ::: table data/titration.csv
    caption: Titration of 25 mL of acetic acid
    label: tbl-titration
    columns:
      - volume: "Volume (mL)"
      - pH
    format: {volume: ".2f"}
    :::

Reading the file belongs to ``data/tables.py``; here the fence and its options are parsed, checked
against the file's columns, and the table is written with the markup of Markdown tables
(``markdown/tables.py``: a ``data-table`` figure labelled ``DATA TABLE n=<rows>``). Every file a
table reads, or looked for, is an input of the post (``RenderedBody.inputs``), so the rendered-post
cache renders it again when the file changes, appears or vanishes.
"""

from __future__ import annotations

import re

from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.token import Token

from labpress.cache.inputs import input_digest
from labpress.data.tables import TableError, check_format, check_size, format_column, load_table, table_path
from labpress.errors import did_you_mean, shorten
from labpress.markdown.blocks import _CLOSING, block_name, collapse_blocks

OPTIONS = ("caption", "columns", "format", "label")
# Quarto's table labels, so that cross-references can target them: tbl-<name>.
_LABEL = re.compile(r"tbl-[A-Za-z0-9][A-Za-z0-9_-]*")
_NULL = "tag:yaml.org,2002:null"
_LISTED = 12  # columns named in an error message about an unknown one


def datatables_plugin(md: MarkdownIt) -> None:
    """Needs blocks_plugin (registered before it): its check of every ``:::`` fence runs between these rules."""
    md.core.ruler.before("labpress_blocks", "labpress_table_paths", _take_paths)
    md.core.ruler.after("labpress_blocks", "labpress_data_tables", _data_tables)
    md.add_render_rule("labpress_data_table", _render)


def _take_paths(state) -> None:
    """Keep a table block's arguments in its token: the block check sees a bare ``::: table``."""
    for token in state.tokens:
        if token.type == "container_block_open":
            words = token.info.split()
            if words and words[0].lower() == "table":
                token.meta["table_args"] = words[1:]
                token.info = words[0]


# --- Collapsing the block --------------------------------------------------------


def _collapse(state) -> list[Token]:
    """Replace each table block's tokens by one token holding its raw YAML body; the new tokens."""
    lines = state.env["source"].lines

    def make(token, body: str, indent: int) -> Token:
        start, end = token.map
        closing = _CLOSING.match(lines[end]) if end < len(lines) else None
        table = Token("labpress_data_table", "figure", 0)
        table.meta = {"args": token.meta["table_args"], "body": body, "body_line": start + 2,
                      "col": indent + 1, "indent": indent,
                      # never closed: blocks.py says so, and the rest of the post is not options
                      "closed": bool(closing) and len(closing.group(1)) >= len(token.markup or ":::")}
        return table

    return collapse_blocks(state, lambda token: block_name(token) == "table" and "table_args" in token.meta, make)


# --- The options -----------------------------------------------------------------


def _parse_options(meta: dict, sink) -> dict | None:
    """The block's options, each with its position in the post; None after reporting an error."""
    first, indent, body = meta["body_line"], meta["indent"], meta["body"]
    if not body.strip():
        return {}
    import yaml  # here: most posts have no tables

    def offset(index: int) -> tuple[int, int]:
        """The post's line and column of a character of the body."""
        start = body.rfind("\n", 0, index) + 1
        return first + body.count("\n", 0, index), indent + index - start + 1

    def at(node) -> tuple[int, int]:
        return offset(node.start_mark.index)

    loader = None
    try:
        try:
            loader = yaml.SafeLoader(body)  # which already refuses a control character
            node = loader.get_single_node()
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            sink.add(*(offset(mark.index) if mark else (first, indent + 1)),
                     f"table options are not valid YAML: {shorten(str(exc.problem or exc.context), 120)}")
            return None
        except yaml.reader.ReaderError as exc:
            sink.add(*offset(exc.position), f"table options cannot hold the character U+{exc.character:04X}"
                     if isinstance(exc.character, int) else "table options are not readable text")
            return None
        except RecursionError:
            sink.add(first, indent + 1, "table options nest too deeply")
            return None
    finally:
        if loader is not None:
            loader.dispose()
    if node is None:  # only comments
        return {}
    if not isinstance(node, yaml.MappingNode):
        sink.add(*at(node), "a table block's body holds options, one 'key: value' a line: " + ", ".join(OPTIONS))
        return None
    options: dict = {}
    ok = True
    for key, value in node.value:
        if not isinstance(key, yaml.ScalarNode):
            sink.add(*at(key), "a table option is named by a word: " + ", ".join(OPTIONS))
            ok = False
            continue
        name = key.value
        if name not in OPTIONS:
            sink.add(*at(key), f"unknown table option '{shorten(name, 40)}'{did_you_mean(shorten(name, 40), OPTIONS)};"
                               f" known options: {', '.join(OPTIONS)}")
            ok = False
            continue
        if name in options:
            sink.add(*at(key), f"'{name}' is set twice in this table block")
            ok = False
            continue
        parsed = _OPTION_PARSERS[name](value, at, sink)
        if parsed is None:
            ok = False
            options[name] = None
        else:
            options[name] = parsed
    return options if ok else None


def _text(node) -> str | None:
    """A scalar's text as written (YAML 1.1 would read 'on' or '1.50' as something else), None if not a scalar."""
    import yaml

    if not isinstance(node, yaml.ScalarNode):
        return None
    return "" if node.tag == _NULL and not node.style else node.value


def _caption(node, at, sink):
    text = _text(node)
    if text is None:
        sink.add(*at(node), "the table caption is text")
    return text


def _label(node, at, sink):
    text = _text(node)
    if text is None or not _LABEL.fullmatch(text):
        shown = f" '{shorten(text, 40)}'" if text else ""
        sink.add(*at(node), f"a table label{shown} starts with 'tbl-' and holds letters, digits, '-' and '_',"
                            " as in 'tbl-titration'")
        return None
    return text, at(node)


_COLUMNS_FORM = ("'columns' lists the columns to show, in order: each a name, or 'name: Display name'"
                 " (as in '- volume: \"Volume (mL)\"')")


def _columns(node, at, sink):
    """[(name, display name, position)]: a list of names or one-key mappings, or one mapping."""
    import yaml

    if isinstance(node, yaml.SequenceNode):
        pairs = []
        for item in node.value:
            if isinstance(item, yaml.MappingNode) and len(item.value) == 1:
                pairs.append(item.value[0])
            elif isinstance(item, yaml.ScalarNode):
                pairs.append((item, None))
            else:
                sink.add(*at(item), _COLUMNS_FORM)
                return None
    elif isinstance(node, yaml.MappingNode):
        pairs = list(node.value)
    else:
        sink.add(*at(node), _COLUMNS_FORM)
        return None
    if not pairs:
        sink.add(*at(node), "'columns' names at least one column")
        return None
    out, seen = [], set()
    for key, value in pairs:
        name = _text(key)
        display = name if value is None else _text(value)
        if name is None or display is None:
            sink.add(*at(key if name is None else value), _COLUMNS_FORM)
            return None
        if name in seen:
            sink.add(*at(key), f"the column '{shorten(name, 40)}' is listed twice in 'columns'")
            return None
        seen.add(name)
        out.append((name, display or name, at(key)))
    return out


def _formats(node, at, sink):
    """[(column, spec, position of the column's name, position of the spec)]."""
    import yaml

    form = "'format' gives columns a Python format for numbers, as in 'format: {volume: \".2f\"}'"
    if not isinstance(node, yaml.MappingNode):
        sink.add(*at(node), form)
        return None
    out, seen, ok = [], set(), True
    for key, value in node.value:
        name, spec = _text(key), _text(value)
        if name is None or spec is None:
            sink.add(*at(key if name is None else value), form)
            return None
        if name in seen:
            sink.add(*at(key), f"the column '{shorten(name, 40)}' is given two formats")
            ok = False
            continue
        seen.add(name)
        problem = check_format(spec)
        if problem:
            sink.add(*at(value), f"the format '{shorten(spec, 40)}' for column '{shorten(name, 40)}' is not a"
                                 f" format for numbers: {problem}")
            ok = False
            continue
        out.append((name, spec, at(key), at(value)))
    return out if ok else None


_OPTION_PARSERS = {"caption": _caption, "columns": _columns, "format": _formats, "label": _label}


# --- The core rule -----------------------------------------------------------------


def _data_tables(state) -> None:
    env = state.env
    sink = env["sink"]
    for token in _collapse(state):
        meta = token.meta
        if meta["closed"]:
            _prepare(meta, token.map[0] + 1, env, sink)


def _prepare(meta: dict, line: int, env: dict, sink) -> None:
    """Check the block and read its file; on success ``meta["table"]`` is what _render writes."""
    col = meta["col"]
    args = meta["args"]
    if not args:
        sink.add(line, col, "a table block names its data file: '::: table data/results.csv'")
        return
    if len(args) > 1:
        sink.add(line, col, "a table block names one data file, '::: table PATH'; options such as 'caption:'"
                            " go in the block, one a line")
        return
    options = _parse_options(meta, sink)
    label = options.get("label") if options else None
    if label:
        labels = env.setdefault("table_labels", {})  # label -> line of its table
        name, where = label
        if name in labels:
            sink.add(*where, f"the label '{name}' is already the label of the table at line {labels[name]}")
            options = None
        else:
            labels[name] = line
            meta["xref_label"] = (name, *where)  # numbered with the other tables (markdown/xref.py)
    try:
        path, shown = table_path(env["config"].root, args[0])
    except TableError as exc:
        sink.add(line, col, exc.message)
        return
    # An input of the post: its digest taken before it is read, so a table is never older than its digest.
    found = env.setdefault("inputs", [])
    entry = ("file", str(path), input_digest("file", path))
    if entry not in found:
        found.append(entry)
    try:
        table = load_table(path, shown)
    except TableError as exc:
        sink.add(line, col, exc.message)
        return
    if options is None:
        return
    index = {name: i for i, name in enumerate(table.columns)}

    def unknown(name: str, where) -> None:
        listed = ", ".join(shorten(c, 30) for c in table.columns[:_LISTED]) + (", …" if len(table.columns) > _LISTED else "")
        sink.add(*where, f"unknown column '{shorten(name, 40)}'{_near_column(name, table.columns)};"
                         f" {shown} has the columns {listed}")

    chosen = options.get("columns") or [(name, name, None) for name in table.columns]
    ok = True
    for name, _display, where in chosen:
        if name not in index:
            unknown(name, where)
            ok = False
    shown_names = {name for name, _, _ in chosen}
    formats = {}
    for name, spec, key_at, spec_at in options.get("format") or ():
        if name not in index:
            unknown(name, key_at)
            ok = False
        elif name not in shown_names:
            sink.add(*key_at, f"the column '{shorten(name, 40)}' has a format but is not in 'columns': add it there")
            ok = False
        else:
            formats[name] = (spec, key_at)
    if not ok:
        return
    try:
        check_size(table, len(chosen))
    except TableError as exc:
        sink.add(line, col, exc.message)
        return
    header, numeric, columns = [], [], []
    for name, display, _ in chosen:
        i = index[name]
        header.append(display)
        numeric.append(table.numeric(i))
        if name in formats:
            spec, key_at = formats[name]
            try:
                columns.append(format_column(table, i, spec))
            except TableError as exc:
                sink.add(*key_at, exc.message)
                ok = False
        else:
            columns.append([row.cells[i] for row in table.rows])
    if ok:
        meta["table"] = (header, numeric, list(zip(*columns)) if columns else [], len(table.rows))
        meta["caption"] = options.get("caption") or ""
        meta["label"] = label[0] if label else ""


def _near_column(name: str, columns) -> str:
    """A did-you-mean for a column: one that differs only in case first ('ml' for 'mL': units are written
    as they are)."""
    same = [column for column in columns if column.casefold() == name.casefold()]
    return f" (did you mean '{shorten(same[0], 40)}'?)" if same else did_you_mean(shorten(name, 40), columns)


# --- The HTML ----------------------------------------------------------------------


def _render(self, tokens, idx, options, env) -> str:
    meta = tokens[idx].meta
    if "table" not in meta:
        return ""
    header, numeric, rows, count = meta["table"]
    env["table_count"] = env.get("table_count", 0) + 1  # shared with Markdown tables: ids in page order
    labelled_by = f"table-{env['table_count']}"
    figure_id = f' id="{escapeHtml(meta["label"])}"' if meta["label"] else ""
    xref = meta.get("xref")  # "Table 1:" of a labelled table (markdown/xref.py)
    number = (f'<span class="xref-label">Table {xref["number"]}{":" if meta["caption"] else ""}</span>'
              f'{" " if meta["caption"] else ""}') if xref else ""
    caption = (f' <span class="data-table-caption">{number}{escapeHtml(meta["caption"])}</span>'
               if meta["caption"] or number else "")
    classes = [' class="num"' if is_number else "" for is_number in numeric]
    out = [
        f'<figure class="data-table"{figure_id} aria-labelledby="{labelled_by}">\n'
        f'<figcaption id="{labelled_by}"><span class="data-table-label">Data table</span> n={count}{caption}</figcaption>\n'
        f'<section class="table-scroll" tabindex="0" aria-labelledby="{labelled_by}">\n<table>\n'
        "<thead>\n<tr>\n"
    ]
    out.extend(f"<th{cls}>{escapeHtml(text)}</th>\n" for cls, text in zip(classes, header))
    out.append("</tr>\n</thead>\n<tbody>\n")
    for row in rows:
        out.append("<tr>\n")
        out.extend(f"<td{cls}>{escapeHtml(text)}</td>\n" for cls, text in zip(classes, row))
        out.append("</tr>\n")
    out.append("</tbody>\n</table>\n</section>\n</figure>\n")
    return "".join(out)
