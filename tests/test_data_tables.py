"""``::: table PATH`` blocks: tables read from CSV, TSV and JSON files in the site folder (issue 11).

What they show (columns, display names, formats, labels), every mistake at its place in the post
and, for a malformed row, at its place in the data file; and that the data file is an input of
the post, so an incremental build after an edit equals a clean one.
"""

import hashlib
import re
from pathlib import Path

import pytest

from labpress.cache.inputs import input_digest
from labpress.data import tables
from labpress.data.tables import TableError, check_format, parse_table
from labpress.site.pipeline import build_site

HEAD = "---\ntitle: Titration\ndate: 2026-02-02\n---\n\n"  # a fence on the next line is line 6

TITRATION = "volume,pH,conc (M)\n0,2.87,0.1\n5,4.14,0.1\n10.5,4.57,\n"


def data(site, name: str, text: str | bytes) -> Path:
    path = site.root / "data" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8", newline="")
    return path


def block(path: str, options: str = "") -> str:
    return f"::: table {path}\n{options}:::\n"


def built(site, body: str, **files) -> str:
    for name, text in files.items():
        data(site, name.replace("_", "."), text)
    result, html = site.build_post(HEAD + body)
    assert result.returncode == 0, result.stderr
    return html


def figures(html: str) -> list[str]:
    return re.findall(r'<figure class="data-table".*?</figure>', html, re.S)


def header(figure: str) -> list[str]:
    return re.findall(r"<th[^>]*>(.*?)</th>", figure)


def cells(figure: str) -> list[list[str]]:
    return [re.findall(r"<td[^>]*>(.*?)</td>", row) for row in re.findall(r"<tr>\n(<td.*?)</tr>", figure, re.S)]


def refused(site, body: str, **files) -> list[str]:
    """Build; exit 1, no traceback; the error lines."""
    for name, text in files.items():
        data(site, name.replace("_", "."), text)
    result, html = site.build_post(HEAD + body)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "Traceback" not in output and "internal error" not in output, output
    assert html == ""
    return result.errors


# --- What a table shows ------------------------------------------------------------


def test_csv_table_with_the_markup_of_markdown_tables(site):
    html = built(site, block("data/titration.csv"), titration_csv=TITRATION)
    [figure] = figures(html)
    assert figure.startswith(
        '<figure class="data-table" aria-labelledby="table-1">\n'
        '<figcaption id="table-1"><span class="data-table-label">Data table</span> n=3</figcaption>\n'
        '<section class="table-scroll" tabindex="0" aria-labelledby="table-1">\n<table>\n<thead>\n<tr>\n')
    assert header(figure) == ["volume", "pH", "conc (M)"]  # the header's case, as written
    assert cells(figure) == [["0", "2.87", "0.1"], ["5", "4.14", "0.1"], ["10.5", "4.57", ""]]
    assert figure.endswith("</tbody>\n</table>\n</section>\n</figure>")


def test_numeric_columns_are_marked_for_right_alignment(site):
    text = "sample,mass,note\nA,1.5,ok\nB,-2e-3,\nC,,\n"
    [figure] = figures(built(site, block("data/m.csv"), m_csv=text))
    assert re.findall(r"<th( class=\"num\")?>", figure) == ["", ' class="num"', ""]
    assert '<td class="num">-2e-3</td>' in figure and "<td>A</td>" in figure and "<td>ok</td>" in figure


def test_n_counts_the_data_rows_and_ids_follow_markdown_tables(site):
    markdown_table = "| a | b |\n|---|---|\n| 1 | 2 |\n"
    rows = "x\n" + "".join(f"{i}\n" for i in range(37))
    html = built(site, markdown_table + "\n" + block("data/x.csv") + "\n" + markdown_table, x_csv=rows)
    assert re.findall(r'<figcaption id="(table-\d)"><span class="data-table-label">Data table</span> n=(\d+)', html) == [
        ("table-1", "1"), ("table-2", "37"), ("table-3", "1")]


def test_tsv_table(site):
    [figure] = figures(built(site, block("data/runs.tsv"), runs_tsv="run\tloss (nats)\nA\t0.41\nB\t0.58\n"))
    assert header(figure) == ["run", "loss (nats)"]
    assert cells(figure) == [["A", "0.41"], ["B", "0.58"]]


def test_json_table_of_records(site):
    text = ('[\n  {"volume": 0.10, "pH": 2.87, "ok": true},\n  {"volume": 5, "pH": null, "id": "007"},\n'
            '  {"pH": 4.5, "ok": false}\n]\n')
    [figure] = figures(built(site, block("data/t.json"), t_json=text))
    assert header(figure) == ["volume", "pH", "ok", "id"]  # every key, in the order first seen
    assert cells(figure) == [["0.10", "2.87", "true", ""], ["5", "", "", "007"], ["", "4.5", "false", ""]]
    classes = re.findall(r"<th( class=\"num\")?>", figure)
    assert classes == [' class="num"', ' class="num"', "", ""]  # "007" is text in JSON


def test_nul_is_the_replacement_character_as_in_markdown(site):
    [figure] = figures(built(site, block("data/n.csv"), n_csv="a\nx\x00y\n"))
    assert cells(figure) == [["x\ufffdy"]]


def test_a_byte_order_mark_and_crlf_lines_are_fine(site):
    [figure] = figures(built(site, block("data/excel.csv"), excel_csv=b"\xef\xbb\xbfVolume,pH\r\n1,2\r\n"))
    assert header(figure) == ["Volume", "pH"]
    assert cells(figure) == [["1", "2"]]


def test_columns_as_a_list_chooses_and_orders(site):
    [figure] = figures(built(site, block("data/t.csv", "columns: [pH, volume]\n"), t_csv=TITRATION))
    assert header(figure) == ["pH", "volume"]
    assert cells(figure)[0] == ["2.87", "0"]


def test_columns_with_display_names(site):
    options = 'columns:\n  - volume: "Volume (mL)"\n  - conc (M)\n  - pH: pH <at 25 °C>\n'
    [figure] = figures(built(site, block("data/t.csv", options), t_csv=TITRATION))
    assert header(figure) == ["Volume (mL)", "conc (M)", "pH &lt;at 25 °C&gt;"]
    assert cells(figure)[2] == ["10.5", "", "4.57"]


def test_columns_as_a_mapping(site):
    options = 'columns:\n  pH: "pH"\n  volume: "V (mL)"\n'
    [figure] = figures(built(site, block("data/t.csv", options), t_csv=TITRATION))
    assert header(figure) == ["pH", "V (mL)"]


def test_formats_apply_to_numbers_and_leave_empty_cells(site):
    options = 'format: {volume: ".2f", "conc (M)": ".1e"}\n'
    [figure] = figures(built(site, block("data/t.csv", options), t_csv=TITRATION))
    assert cells(figure) == [["0.00", "2.87", "1.0e-01"], ["5.00", "4.14", "1.0e-01"], ["10.50", "4.57", ""]]


def test_integer_formats(site):
    text = "n,count\n1,1200\n2,35000\n"
    [figure] = figures(built(site, block("data/n.csv", 'format:\n  count: ",d"\n  n: "03d"\n'), n_csv=text))
    assert cells(figure) == [["001", "1,200"], ["002", "35,000"]]


def test_caption_and_label(site):
    options = "caption: Titration of 25 mL <acetic> acid & base\nlabel: tbl-titration\n"
    [figure] = figures(built(site, block("data/t.csv", options), t_csv=TITRATION))
    assert figure.startswith('<figure class="data-table" id="tbl-titration" aria-labelledby="table-1">')
    # Labelled, so numbered (cross-references, markdown/xref.py).
    assert ('n=3 <span class="data-table-caption"><span class="xref-label">Table 1:</span> Titration of 25 mL'
            ' &lt;acetic&gt; acid &amp; base</span></figcaption>') in figure


def test_yaml_does_not_reinterpret_names(site):
    # YAML 1.1 reads 'on' as true and 1.50 as 1.5: names are taken as written.
    text = "on,1.50\n1,2\n"
    [figure] = figures(built(site, block("data/y.csv", "columns: [1.50, on]\ncaption: 0.10\n"), y_csv=text))
    assert header(figure) == ["1.50", "on"]
    assert "<span class=\"data-table-caption\">0.10</span>" in figure


def test_all_text_is_escaped(site):
    text = 'a<b>,"x""y"\n<script>alert(1)</script>,&amp;\n'
    [figure] = figures(built(site, block("data/e.csv"), e_csv=text))
    assert "<script>" not in figure and "<b>" not in figure
    assert header(figure) == ["a&lt;b&gt;", "x&quot;y"]
    assert cells(figure) == [["&lt;script&gt;alert(1)&lt;/script&gt;", "&amp;amp;"]]


def test_a_table_in_a_quote_and_in_a_list(site):
    body = ("> A quoted table:\n>\n> ::: table data/t.csv\n> columns:\n>   - pH\n> :::\n\n"
            "- an item\n\n  ::: table data/t.csv\n  format:\n    volume: .1f\n  :::\n")
    html = built(site, body, t_csv=TITRATION)
    quoted, listed = figures(html)
    assert html.index("<blockquote>") < html.index(quoted) < html.index("</blockquote>")
    assert header(quoted) == ["pH"]
    item = html.index("<li>", html.index("</blockquote>"))
    assert item < html.index(listed) < html.index("</li>", item)
    assert [row[0] for row in cells(listed)] == ["0.0", "5.0", "10.5"]


def test_the_same_output_every_time(site, tmp_path):
    data(site, "t.csv", TITRATION)
    site.post("p.md", HEAD + block("data/t.csv", "format: {pH: .1f}\n"))
    assert site.build().returncode == 0
    first = (site.out / "p" / "index.html").read_bytes()
    assert site.build("--no-cache").returncode == 0
    assert (site.out / "p" / "index.html").read_bytes() == first


# --- Mistakes, where they are ------------------------------------------------------

E = "content/p.md"

ERRORS = [
    pytest.param(block(""), {}, f"{E}:6:1: error: a table block names its data file: '::: table data/results.csv'",
                 id="no-path"),
    pytest.param(block("data/a.csv data/b.csv"), {}, f"{E}:6:1: error: a table block names one data file,"
                 " '::: table PATH'; options such as 'caption:' go in the block, one a line", id="two-paths"),
    pytest.param(block("/etc/table.csv"), {}, f"{E}:6:1: error: the data file '/etc/table.csv' is an absolute path:"
                 " name it relative to the site folder, as in 'data/results.csv'", id="absolute"),
    pytest.param(block("../outside.csv"), {}, f"{E}:6:1: error: the data file '../outside.csv' is outside the site"
                 " folder: a table reads files inside it", id="outside"),
    pytest.param(block("data/../../outside.csv"), {}, f"{E}:6:1: error: the data file 'data/../../outside.csv' is"
                 " outside the site folder: a table reads files inside it", id="outside-after-folder"),
    pytest.param(block("data/t.xlsx"), {}, f"{E}:6:1: error: a table reads a .csv, .tsv or .json file, not '.xlsx'"
                 " ('data/t.xlsx')", id="extension"),
    pytest.param(block("data/table"), {}, f"{E}:6:1: error: a table reads a .csv, .tsv or .json file, not a file"
                 " without an extension ('data/table')", id="no-extension"),
    pytest.param(block("data/t.csv", "colums: [pH]\n"), {"t_csv": TITRATION},
                 f"{E}:7:1: error: unknown table option 'colums' (did you mean 'columns'?); known options: caption,"
                 " columns, format, label", id="unknown-option"),
    pytest.param(block("data/t.csv", "caption: [a, b]\n"), {"t_csv": TITRATION},
                 f"{E}:7:10: error: the table caption is text", id="caption-not-text"),
    pytest.param(block("data/t.csv", "caption: a\ncaption: b\n"), {"t_csv": TITRATION},
                 f"{E}:8:1: error: 'caption' is set twice in this table block", id="option-twice"),
    pytest.param(block("data/t.csv", "caption: [unclosed\n"), {"t_csv": TITRATION},
                 f"{E}:7:19: error: table options are not valid YAML: expected ',' or ']', but got '<stream end>'",
                 id="bad-yaml"),
    pytest.param(block("data/t.csv", "- pH\n"), {"t_csv": TITRATION},
                 f"{E}:7:1: error: a table block's body holds options, one 'key: value' a line: caption, columns,"
                 " format, label", id="body-not-mapping"),
    pytest.param(block("data/t.csv", "label: titration\n"), {"t_csv": TITRATION},
                 f"{E}:7:8: error: a table label 'titration' starts with 'tbl-' and holds letters, digits, '-' and"
                 " '_', as in 'tbl-titration'", id="label-without-tbl"),
    pytest.param(block("data/t.csv", "columns:\n  - volume\n  - PH\n"), {"t_csv": TITRATION},
                 f"{E}:9:5: error: unknown column 'PH' (did you mean 'pH'?); data/t.csv has the columns volume, pH,"
                 " conc (M)", id="unknown-column"),
    pytest.param(block("data/t.csv", "columns: {volum: V}\n"), {"t_csv": TITRATION},
                 f"{E}:7:11: error: unknown column 'volum' (did you mean 'volume'?); data/t.csv has the columns"
                 " volume, pH, conc (M)", id="unknown-column-mapping"),
    pytest.param(block("data/t.csv", "columns: [pH, pH]\n"), {"t_csv": TITRATION},
                 f"{E}:7:15: error: the column 'pH' is listed twice in 'columns'", id="column-twice"),
    pytest.param(block("data/t.csv", "columns: []\n"), {"t_csv": TITRATION},
                 f"{E}:7:10: error: 'columns' names at least one column", id="no-columns"),
    pytest.param(block("data/t.csv", "columns: pH\n"), {"t_csv": TITRATION},
                 f"{E}:7:10: error: 'columns' lists the columns to show, in order: each a name, or 'name: Display"
                 " name' (as in '- volume: \"Volume (mL)\"')", id="columns-not-a-list"),
    pytest.param(block("data/t.csv", "format:\n  conc: .2f\n"), {"t_csv": TITRATION},
                 f"{E}:8:3: error: unknown column 'conc' (did you mean 'conc (M)'?); data/t.csv has the columns"
                 " volume, pH, conc (M)",
                 id="format-unknown-column"),
    pytest.param(block("data/t.csv", "columns: [pH]\nformat: {volume: .2f}\n"), {"t_csv": TITRATION},
                 f"{E}:8:10: error: the column 'volume' has a format but is not in 'columns': add it there",
                 id="format-column-not-shown"),
    pytest.param(block("data/t.csv", "format: {volume: .2q}\n"), {"t_csv": TITRATION},
                 f"{E}:7:18: error: the format '.2q' for column 'volume' is not a format for numbers: write one like"
                 " '.2f', '.3g', ',d', '.1%' or '>8.3e'", id="bad-format-spec"),
    pytest.param(block("data/t.csv", "format: {volume: s}\n"), {"t_csv": TITRATION},
                 f"{E}:7:18: error: the format 's' for column 'volume' is not a format for numbers: write one like"
                 " '.2f', '.3g', ',d', '.1%' or '>8.3e'", id="text-format-spec"),
    pytest.param(block("data/t.csv", "format: {volume: .2c}\n"), {"t_csv": TITRATION},
                 f"{E}:7:18: error: the format '.2c' for column 'volume' is not a format for numbers: Unknown format"
                 " code 'c' for object of type 'float'", id="format-python-refuses"),
    pytest.param(block("data/t.csv", "format: {volume: .999999999f}\n"), {"t_csv": TITRATION},
                 f"{E}:7:18: error: the format '.999999999f' for column 'volume' is not a format for numbers: its"
                 " width and precision may be at most 100", id="huge-format-spec"),
    pytest.param(block("data/t.csv", "format: volume\n"), {"t_csv": TITRATION},
                 f"{E}:7:9: error: 'format' gives columns a Python format for numbers, as in"
                 " 'format: {volume: \".2f\"}'", id="format-not-a-mapping"),
    pytest.param(block("data/n.csv", "format:\n  value: .2f\n"), {"n_csv": "id,value\na,1\nb,n/a\n"},
                 f"{E}:8:3: error: data/n.csv:3: 'n/a' in column 'value' is not a number, so the format '.2f'"
                 " cannot apply", id="text-in-formatted-column"),
    pytest.param(block("data/n.csv", "format:\n  value: d\n"), {"n_csv": "id,value\na,1\nb,1.5\n"},
                 f"{E}:8:3: error: data/n.csv:3: the format 'd' cannot write 1.5 in column 'value': Unknown format"
                 " code 'd' for object of type 'float'", id="format-cannot-write"),
    pytest.param(block("data/t.csv", "label: tbl-x\n") + "\n" + block("data/t.csv", "label: tbl-x\n"),
                 {"t_csv": TITRATION}, f"{E}:11:8: error: the label 'tbl-x' is already the label of the table at"
                 " line 6", id="duplicate-label"),
    pytest.param("::: tabel data/t.csv\n:::\n", {}, f"{E}:6:5: error: unknown block 'tabel' (did you mean"
                 " 'table'?); known blocks: hypothesis, conclusion, note, tip, important, warning, caution, widget, table", id="misspelt-block"),
    pytest.param("::: table data/t.csv\ncaption: x\n", {"t_csv": TITRATION},
                 f"{E}:6:1: error: block 'table' is never closed: end it with a line ':::'", id="never-closed"),
]


@pytest.mark.parametrize("body, files, expected", ERRORS)
def test_mistakes_in_the_block(site, body, files, expected):
    assert refused(site, body, **files) == [expected]


FILE_ERRORS = [
    pytest.param("t.csv", "volume,pH\n1,2\n3,4,5\n6,7\n", f"{E}:6:1: error: data/t.csv:3: row has 3 fields, the header has 2",
                 id="row-too-long"),
    pytest.param("t.csv", "volume,pH\n1,2\n3\n6,7,8,9\n\n10,11\n12\n",
                 f"{E}:6:1: error: data/t.csv:3: row has 1 field, the header has 2 (and 2 more rows from line 4 on do not"
                 " match the header)", id="several-bad-rows"),
    pytest.param("t.csv", 'sample,note\nA,"two\nlines"\nB,x,y\n', f"{E}:6:1: error: data/t.csv:4: row has 3 fields,"
                 " the header has 2", id="line-after-a-quoted-newline"),
    pytest.param("t.tsv", "volume\tpH\n\n1\t2\t3\n", f"{E}:6:1: error: data/t.tsv:3: row has 3 fields, the header has 2",
                 id="tsv-row"),
    pytest.param("t.csv", "", f"{E}:6:1: error: the data file 'data/t.csv' is empty: its first line is the header,"
                 " naming the columns", id="empty-file"),
    pytest.param("t.csv", "a,b,a\n1,2,3\n", f"{E}:6:1: error: data/t.csv:1: the header names the column 'a' twice",
                 id="column-twice-in-header"),
    pytest.param("t.csv", b"a,b\n1,\xff\n", f"{E}:6:1: error: data/t.csv:2: the file is not UTF-8 text (byte 0xff):"
                 " save it as UTF-8", id="not-utf8"),
    pytest.param("t.csv", "a,b\n1,2\n".encode("utf-16"), f"{E}:6:1: error: data/t.csv:1: the file is UTF-16 text:"
                 " save it as UTF-8", id="utf16"),
    pytest.param("t.csv", "a,b\n1,2\n3," + "x" * 200_000 + "\n", f"{E}:6:1: error: data/t.csv:3: cannot be read"
                 " as CSV: field larger than field limit (131072)", id="huge-field"),
    pytest.param("t.json", '[{"a": 1},\n {"a": 2,}\n]', f"{E}:6:1: error: data/t.json:2: not valid JSON: Expecting"
                 " property name enclosed in double quotes", id="bad-json"),
    pytest.param("t.json", '[{"a": 1},\n\n 7]', f"{E}:6:1: error: data/t.json:3: record 2 is a number, not an object"
                 ' {"column": value, ...}', id="record-not-object"),
    pytest.param("t.json", '{"a": [1, 2]}', f"{E}:6:1: error: data/t.json:1: a JSON table is a list of records,"
                 ' [{"column": value, ...}, ...]; this file is not a list', id="json-not-a-list"),
    pytest.param("t.json", '[\n{"a": 1},\n{"a": {"b": 2}}\n]', f"{E}:6:1: error: data/t.json:3: 'a' holds an object;"
                 " a table cell is text, a number, true, false or null", id="nested-value"),
    pytest.param("t.json", "[]", f"{E}:6:1: error: the data file 'data/t.json' holds no records: a table needs one to"
                 " know its columns", id="no-records"),
    pytest.param("t.json", '[{"a": 1}] [', f"{E}:6:1: error: data/t.json:1: not valid JSON: more after the list of"
                 " records", id="json-extra"),
    pytest.param("t.json", "[" * 100_000, f"{E}:6:1: error: data/t.json:1: the JSON nests too deeply for a table",
                 id="json-deep"),
]


@pytest.mark.parametrize("name, text, expected", FILE_ERRORS)
def test_mistakes_in_the_data_file_name_its_line(site, name, text, expected):
    assert refused(site, block(f"data/{name}"), **{name.replace(".", "_"): text}) == [expected]


def test_a_missing_file_says_where_it_was_looked_for(site):
    data(site, "titration.csv", TITRATION)
    [error] = refused(site, block("data/titraton.csv"))
    looked = (site.root / "data" / "titraton.csv").resolve()
    assert error == (f"{E}:6:1: error: no data file 'data/titraton.csv' in the site folder (did you mean"
                     f" 'data/titration.csv'?); looked for {looked}")


def test_a_folder_is_not_a_data_file(site):
    (site.root / "data" / "runs.csv").mkdir(parents=True)
    assert refused(site, block("data/runs.csv")) == [f"{E}:6:1: error: 'data/runs.csv' is a folder, not a data file"]


def test_every_mistake_at_once(site):
    body = block("data/t.csv", "colour: red\n") + "\n" + block("data/u.csv") + "\n" + block("data/v.json")
    errors = refused(site, body, t_csv="a,b\n1\n")
    assert [e.split(": error: ")[0] for e in errors] == [f"{E}:6:1", f"{E}:7:1", f"{E}:10:1", f"{E}:13:1"]


def test_in_a_quote_errors_are_at_the_fence_and_the_key(site):
    body = "> text\n>\n> ::: table data/t.csv\n> format: {pH: .2z}\n> :::\n"
    [error] = refused(site, body, t_csv=TITRATION)
    assert error.startswith(f"{E}:9:16: error: the format '.2z' for column 'pH'")
    body = "- item\n\n  ::: table data/missing.csv\n  :::\n"
    [error] = refused(site, body)
    assert error.startswith(f"{E}:8:3: error: no data file 'data/missing.csv'")


# --- Limits ---------------------------------------------------------------------------


def test_too_many_rows(site):
    rows = "n\n" + "1\n" * (tables.MAX_ROWS + 1)
    assert refused(site, block("data/t.csv"), t_csv=rows) == [
        f"{E}:6:1: error: the data file 'data/t.csv' has more than 10000 rows, the most a table shows"]
    records = "[" + ",".join(['{"n": 1}'] * (tables.MAX_ROWS + 1)) + "]"
    assert refused(site, block("data/t.json"), t_json=records) == [
        f"{E}:6:1: error: the data file 'data/t.json' has more than 10000 rows, the most a table shows"]


def test_the_most_rows_is_fine(site):
    html = built(site, block("data/t.csv"), t_csv="n\n" + "1\n" * tables.MAX_ROWS)
    assert "</span> n=10000</figcaption>" in html


def test_too_big_a_file(site):
    big = "n\n" + "1" * (tables.MAX_BYTES + 1) + "\n"
    assert refused(site, block("data/t.csv"), t_csv=big) == [
        f"{E}:6:1: error: the data file 'data/t.csv' is larger than 5 MB, the most a table reads"]


def test_too_many_cells(site):
    columns = 21
    text = ",".join(f"c{i}" for i in range(columns)) + "\n" + ("1," * (columns - 1) + "1\n") * 10_000
    assert refused(site, block("data/t.csv"), t_csv=text) == [
        f"{E}:6:1: error: the table would show 210000 cells (10000 rows of 21 columns), more than the 200000 a"
        " table shows: pick fewer columns with 'columns'"]
    html = built(site, block("data/t.csv", "columns: [c0, c1]\n"))
    assert "</span> n=10000</figcaption>" in html


def test_too_many_columns(site):
    text = ",".join(f"c{i}" for i in range(tables.MAX_COLUMNS + 1)) + "\n"
    assert refused(site, block("data/t.csv"), t_csv=text) == [
        f"{E}:6:1: error: data/t.csv:1: the header has 201 columns, more than the 200 a table shows"]


# --- The data file is an input of the post --------------------------------------------


def files(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def same_as_clean_build(site, tmp_path, name: str = "clean") -> None:
    clean = tmp_path / name
    result = site.build("--no-cache", "--out", str(clean))
    assert result.returncode == 0, result.stderr
    assert files(site.out) == files(clean)


def page(site) -> str:
    return (site.out / "p" / "index.html").read_text()


def test_editing_the_data_file_renders_the_post_again(site, tmp_path):
    csv = data(site, "t.csv", TITRATION)
    site.post("p.md", HEAD + block("data/t.csv", "format: {pH: .1f}\n"))
    assert build_site(site.root).rendered_posts == ["content/p.md"]
    assert cells(figures(page(site))[0])[0] == ["0", "2.9", "0.1"]
    assert build_site(site.root).rendered_posts == []  # nothing changed: nothing rendered

    csv.write_text(TITRATION.replace("2.87", "3.33"))
    assert build_site(site.root).rendered_posts == ["content/p.md"]
    assert cells(figures(page(site))[0])[0] == ["0", "3.3", "0.1"]
    same_as_clean_build(site, tmp_path)


def test_the_inputs_of_a_post(site):
    from labpress.config.schema import load_config
    from labpress.errors import ErrorSink
    from labpress.markdown.render import render_body

    csv = data(site, "t.csv", TITRATION)
    config = load_config(site.root)
    text = HEAD + block("data/t.csv") + "\n" + block("data/./t.csv", "columns: [pH]\n") + "\n" + block("data/gone.json")
    sink = ErrorSink("content/p.md")
    body = render_body(text, sink, config, katex=None)
    root = site.root.resolve()
    assert list(body.inputs) == [("file", str(root / "data" / "t.csv"), input_digest("file", csv)),
                                 ("file", str(root / "data" / "gone.json"), None)]  # once each; a missing one too
    assert [e.line for e in sink.errors] == [13]


def test_a_data_file_that_appears_or_vanishes(site, tmp_path):
    site.post("p.md", HEAD + block("data/t.csv"))
    result = site.build()
    assert result.returncode == 1 and "no data file 'data/t.csv'" in result.stderr
    data(site, "t.csv", TITRATION)  # it appears
    assert build_site(site.root).rendered_posts == ["content/p.md"]
    assert "n=3</figcaption>" in page(site)
    same_as_clean_build(site, tmp_path, "clean-appeared")
    (site.root / "data" / "t.csv").unlink()  # and vanishes
    result = site.build()
    assert result.returncode == 1 and "no data file 'data/t.csv'" in result.stderr


def test_a_malformed_edit_is_an_error_and_a_fix_renders_again(site, tmp_path):
    csv = data(site, "t.csv", TITRATION)
    site.post("p.md", HEAD + block("data/t.csv"))
    assert site.build().returncode == 0
    csv.write_text(TITRATION + "1,2,3,4\n")
    result = site.build()
    assert result.errors == [f"{E}:6:1: error: data/t.csv:5: row has 4 fields, the header has 3"]
    csv.write_text(TITRATION + "1,2,3\n")
    assert build_site(site.root).rendered_posts == ["content/p.md"]
    assert "n=4</figcaption>" in page(site)
    same_as_clean_build(site, tmp_path)


# --- data/tables.py on its own ---------------------------------------------------------


def test_rows_keep_the_line_they_start_on():
    table = parse_table(b'a,b\n\n1,"x\ny"\n2,z\n', "CSV", "d.csv")
    assert table.columns == ("a", "b")
    assert [(row.line, row.cells) for row in table.rows] == [(3, ("1", "x\ny")), (5, ("2", "z"))]


def test_json_records_keep_their_line():
    table = parse_table(b'[{"a": 1},\n\n  {"a": 2.50, "b": "3"}]', "JSON", "d.json")
    assert [(row.line, row.cells) for row in table.rows] == [(1, ("1", "")), (3, ("2.50", "3"))]
    assert table.numeric(0) and not table.numeric(1)  # "3" is text in JSON


@pytest.mark.parametrize("text, number", [("12", 12), ("-0.5", -0.5), ("1e-3", 0.001), ("+.5", 0.5), ("5.", 5.0),
                                          ("nan", None), ("1,5", None), ("0x1f", None), ("١٢", None), ("", None)])
def test_what_reads_as_a_number(text, number):
    assert tables.number_of(text) == number


@pytest.mark.parametrize("spec, ok", [(".2f", True), (",d", True), ("d", True), (">8.3e", True), (".1%", True),
                                      ("*^10.2f", True), ("+.3g", True), ("", True), (".2q", False), ("s", False),
                                      ("{}", False), (".101f", False), ("1000000000", False)])
def test_format_specs(spec, ok):
    assert (check_format(spec) is None) is ok


def test_table_path_stays_in_the_site(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "link.csv").symlink_to(tmp_path.parent / "elsewhere.csv")
    path, shown = tables.table_path(tmp_path, "data//./x.CSV")
    assert (path, shown) == (tmp_path.resolve() / "data" / "x.CSV", "data/x.CSV")
    for outside in ("data/link.csv", "..\\x.csv", "C:\\x.csv"):
        with pytest.raises(TableError):
            tables.table_path(tmp_path, outside)
