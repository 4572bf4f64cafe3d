"""A table read from a data file: where it is, its header and rows, and its numbers formatted.

A ``::: table PATH`` block names a file relative to the site folder: a CSV (``.csv``), a TSV
(``.tsv``), or a JSON list of records (``.json``). ``table_path`` checks the name, ``load_table``
reads the file (UTF-8, a byte-order mark tolerated, bounded by MAX_BYTES and MAX_ROWS) into a
``Table`` whose rows keep the line of the file they start on, and ``format_column`` applies a
Python format spec to a column's numbers. Every mistake is a ``TableError``; its message names
the data file as the author would type it, and ``path:line:`` when it is about one place in it.

Everything here is pure (apart from reading the one file) and deterministic.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath

from labpress.errors import did_you_mean, printable_path, shorten

# What a table may read: a data file a browser page can show, read in well under a second.
MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 10_000
MAX_COLUMNS = 200
MAX_CELLS = 200_000  # rows times the columns shown: a page of some megabytes, written in well under a second
# The width and precision a format spec may ask for ('{:1000000000}' would build a gigabyte).
MAX_FORMAT_DIGITS = 100
MAX_FORMAT_CHARS = 40

KINDS = {".csv": "CSV", ".tsv": "TSV", ".json": "JSON"}


class TableError(Exception):
    """A data file that cannot be shown as a table, and why (naming the file, and its line when known)."""

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


class JsonNumber(str):
    """A JSON number (or NaN, Infinity) as written: ``0.10`` keeps its zero."""


@dataclass(frozen=True)
class Row:
    line: int  # the line of the data file the row starts on
    cells: tuple[str, ...]  # one for each column of the table: its text, trimmed ("" when empty or null)


@dataclass(frozen=True)
class Table:
    path: str  # the data file as the author would type it (relative to the site folder)
    columns: tuple[str, ...]
    rows: tuple[Row, ...]
    typed: bool = False  # JSON says which cells are numbers (JsonNumber); in CSV any cell that reads as one is

    def number(self, cell: str) -> int | float | None:
        """The number a cell holds, or None (text, or empty). Read when asked: most cells never are."""
        if not self.typed:
            return number_of(cell)
        if not isinstance(cell, JsonNumber):
            return None
        number = number_of(cell)
        return float(cell) if number is None else number  # NaN, Infinity, a number of 400 digits

    def numeric(self, index: int) -> bool:
        """Whether column ``index`` holds numbers: every cell that is not empty is one, and there is one."""
        seen = False
        for row in self.rows:
            cell = row.cells[index]
            if cell:
                if self.number(cell) is None:
                    return False
                seen = True
        return seen


# --- Finding the file ----------------------------------------------------------


def table_path(root: Path, written: str) -> tuple[Path, str]:
    """(absolute path, path as shown in messages) of the data file a post names, relative to ``root``.

    TableError for an absolute path, one outside the site folder, or an extension that is not a table's.
    """
    quoted = shorten(written, 120)
    if (PurePosixPath(written).is_absolute() or PureWindowsPath(written).drive
            or written.startswith(("/", "\\")) or PureWindowsPath(written).is_absolute()):
        raise TableError(f"the data file '{quoted}' is an absolute path: name it relative to the site folder,"
                         " as in 'data/results.csv'")
    suffix = PurePosixPath(written).suffix.lower()
    if suffix not in KINDS:
        what = f"'{shorten(PurePosixPath(written).suffix, 20)}'" if suffix else "a file without an extension"
        raise TableError(f"a table reads a .csv, .tsv or .json file, not {what} ('{quoted}')")
    relative = PurePosixPath(os.path.normpath(written.replace("\\", "/")))
    try:
        base = root.resolve()
        target = (base / relative).resolve()
        target.relative_to(base)
        if relative.parts[:1] == ("..",):
            raise ValueError
    except ValueError as exc:
        if "null" in str(exc):
            raise TableError(f"the data file '{quoted}' has a character no file name can hold") from None
        raise TableError(f"the data file '{quoted}' is outside the site folder: a table reads files inside it") from None
    except OSError as exc:
        raise TableError(f"the data file '{quoted}' cannot be looked for: {exc.strerror or exc}") from None
    return base / relative, printable_path(relative.as_posix())


def load_table(path: Path, shown: str) -> Table:
    """The table in the data file at ``path`` (``shown``: its name in messages)."""
    kind = KINDS[path.suffix.lower()]
    try:
        status = path.stat()
        if stat.S_ISDIR(status.st_mode):
            raise TableError(f"'{shown}' is a folder, not a data file")
        if status.st_size > MAX_BYTES:
            raise TableError(_too_big(shown))
        with open(path, "rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise TableError(f"no data file '{shown}' in the site folder{_near_names(path, shown)};"
                         f" looked for {printable_path(str(path))}") from None
    except NotADirectoryError:
        raise TableError(f"no data file '{shown}': a folder on the way is a file") from None
    except OSError as exc:
        raise TableError(f"the data file '{shown}' cannot be read: {exc.strerror or exc}") from None
    if len(data) > MAX_BYTES:  # it grew while being read
        raise TableError(_too_big(shown))
    return parse_table(data, kind, shown)


def _too_big(shown: str) -> str:
    return f"the data file '{shown}' is larger than {MAX_BYTES // (1024 * 1024)} MB, the most a table reads"


def _near_names(path: Path, shown: str) -> str:
    """`` (did you mean 'data/x.csv'?)`` when a data file beside the missing one has a close name."""
    try:
        with os.scandir(path.parent) as entries:
            names = [entry.name for _, entry in zip(range(1000), entries)
                     if os.path.splitext(entry.name)[1].lower() in KINDS]
    except OSError:
        return ""
    folder = PurePosixPath(shown).parent
    return did_you_mean(shown, sorted(printable_path((folder / name).as_posix()) for name in names))


# --- Reading it -----------------------------------------------------------------


def parse_table(data: bytes, kind: str, shown: str) -> Table:
    """The table in a data file's bytes: ``kind`` is "CSV", "TSV" or "JSON"."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise TableError(f"{shown}:1: the file is UTF-16 text: save it as UTF-8")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise TableError(f"{shown}:{line}: the file is not UTF-8 text (byte 0x{data[exc.start]:02x}):"
                         " save it as UTF-8") from None
    text = text.replace("\x00", "\ufffd")  # as Markdown does (CommonMark): a NUL is no character of a page
    if kind == "JSON":
        return _parse_json(text, shown)
    return _parse_delimited(text, "\t" if kind == "TSV" else ",", kind, shown)


_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)


def number_of(text: str) -> int | float | None:
    """The number ``text`` writes (``12``, ``-0.5``, ``1e-3``), or None: ``nan``, ``1,5`` and ``0x1f`` are text."""
    if len(text) > 400 or not _NUMBER.fullmatch(text):
        return None
    if text.lstrip("+-").isdigit():
        try:
            return int(text)
        except ValueError:  # pragma: no cover - bounded above, well under Python's digit limit
            return None
    return float(text)


def _check_header(names: list[str], shown: str, line: int) -> tuple[str, ...]:
    if len(names) > MAX_COLUMNS:
        raise TableError(f"{shown}:{line}: the header has {len(names)} columns, more than the {MAX_COLUMNS}"
                         " a table shows")
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise TableError(f"{shown}:{line}: the header leaves two columns without a name" if not name else
                             f"{shown}:{line}: the header names the column '{shorten(name, 40)}' twice")
        seen.add(name)
    return tuple(names)


def _too_many_rows(shown: str) -> TableError:
    return TableError(f"the data file '{shown}' has more than {MAX_ROWS} rows, the most a table shows")


def _parse_delimited(text: str, delimiter: str, kind: str, shown: str) -> Table:
    reader = csv.reader(io.StringIO(text, newline=""), "excel-tab" if delimiter == "\t" else "excel")
    header: tuple[str, ...] | None = None
    rows: list[Row] = []
    bad: list[tuple[int, int]] = []  # (line, fields) of rows whose length is not the header's
    previous = 0
    try:
        for fields in reader:
            start, previous = previous + 1, reader.line_num
            if not fields:  # a blank line
                continue
            if header is None:
                header = _check_header([f.strip() for f in fields], shown, start)
                continue
            if len(rows) + len(bad) >= MAX_ROWS:
                raise _too_many_rows(shown)
            if len(fields) != len(header):
                bad.append((start, len(fields)))
                continue
            rows.append(Row(start, tuple(map(str.strip, fields))))
    except csv.Error as exc:
        raise TableError(f"{shown}:{reader.line_num}: cannot be read as {kind}: {shorten(str(exc), 120)}") from None
    if header is None:
        raise TableError(f"the data file '{shown}' is empty: its first line is the header, naming the columns")
    if bad:
        line, count = bad[0]
        more = ""
        if len(bad) > 1:
            more = (f" (and {len(bad) - 1} more row{'s' if len(bad) > 2 else ''} from line {bad[1][0]}"
                    f" on {'do' if len(bad) > 2 else 'does'} not match the header)")
        raise TableError(f"{shown}:{line}: row has {count} field{'s' if count != 1 else ''}, the header"
                         f" has {len(header)}{more}")
    return Table(shown, header, tuple(rows))


_WHITESPACE = re.compile(r"[ \t\n\r]*")


def _parse_json(text: str, shown: str) -> Table:
    decoder = json.JSONDecoder(parse_float=JsonNumber, parse_int=JsonNumber, parse_constant=JsonNumber)

    def line_at(index: int) -> int:
        return text.count("\n", 0, index) + 1

    def skip(index: int) -> int:
        return _WHITESPACE.match(text, index).end()

    at = skip(0)
    if text[at:at + 1] != "[":
        what = "empty" if at >= len(text) else "not a list"
        raise TableError(f"{shown}:{line_at(at)}: a JSON table is a list of records, [{{\"column\": value, ...}}, ...];"
                         f" this file is {what}")
    at = skip(at + 1)
    records: list[tuple[int, dict]] = []
    if text[at:at + 1] == "]":
        at += 1
    else:
        while True:
            if len(records) >= MAX_ROWS:
                raise _too_many_rows(shown)
            try:
                value, end = decoder.raw_decode(text, at)
            except json.JSONDecodeError as exc:
                raise TableError(f"{shown}:{exc.lineno}: not valid JSON: {exc.msg}") from None
            except RecursionError:
                raise TableError(f"{shown}:{line_at(at)}: the JSON nests too deeply for a table") from None
            if not isinstance(value, dict):
                kind = ("a list" if isinstance(value, list) else "text" if type(value) is str
                        else "null" if value is None else "a number" if isinstance(value, JsonNumber) else "true or false")
                raise TableError(f"{shown}:{line_at(at)}: record {len(records) + 1} is {kind}, not an object"
                                 " {\"column\": value, ...}")
            records.append((line_at(at), value))
            at = skip(end)
            if text[at:at + 1] == ",":
                at = skip(at + 1)
                continue
            if text[at:at + 1] == "]":
                at += 1
                break
            raise TableError(f"{shown}:{line_at(at)}: not valid JSON: expected ',' or ']' after record {len(records)}")
    if skip(at) < len(text):
        raise TableError(f"{shown}:{line_at(skip(at))}: not valid JSON: more after the list of records")
    if not records:
        raise TableError(f"the data file '{shown}' holds no records: a table needs one to know its columns")
    names: dict[str, None] = {}
    for _, record in records:
        for name in record:
            names.setdefault(name, None)
    columns = tuple(names)
    if len(columns) > MAX_COLUMNS:
        raise TableError(f"the records of '{shown}' have {len(columns)} columns, more than the {MAX_COLUMNS}"
                         " a table shows")
    rows = tuple(Row(line, tuple(_json_cell(record.get(name), name, shown, line) for name in columns))
                 for line, record in records)
    return Table(shown, columns, rows, typed=True)


def _json_cell(value, name: str, shown: str, line: int) -> str:
    if value is None:
        return ""
    if isinstance(value, JsonNumber):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):  # text, even when it reads as a number: JSON says which it is
        return value.strip()
    what = "a list" if isinstance(value, list) else "an object"
    raise TableError(f"{shown}:{line}: '{shorten(name, 40)}' holds {what}; a table cell is text, a number,"
                     " true, false or null")


def check_size(table: Table, shown_columns: int) -> None:
    """TableError when showing ``shown_columns`` of ``table``'s columns would make a page too big to read."""
    cells = len(table.rows) * shown_columns
    if cells > MAX_CELLS:
        raise TableError(f"the table would show {cells} cells ({len(table.rows)} rows of {shown_columns} columns),"
                         f" more than the {MAX_CELLS} a table shows: pick fewer columns with 'columns'")


# --- Formatting numbers ---------------------------------------------------------

# Python's format-spec mini-language: [[fill]align][sign][z][#][0][width][grouping][.precision][type]
_SPEC = re.compile(r"(?:.?[<>=^])?[+\- ]?z?#?0?(?P<width>\d*)[_,]?(?:\.(?P<precision>\d+))?[bcdeEfFgGnoxX%]?", re.S)


def check_format(spec: str) -> str | None:
    """None when ``spec`` formats numbers, else why not."""
    match = _SPEC.fullmatch(spec) if len(spec) <= MAX_FORMAT_CHARS else None
    if not match:
        return "write one like '.2f', '.3g', ',d', '.1%' or '>8.3e'"
    if any(len(part or "") > 3 or int(part or 0) > MAX_FORMAT_DIGITS for part in match.group("width", "precision")):
        return f"its width and precision may be at most {MAX_FORMAT_DIGITS}"
    problems = []
    for sample in (0.5, 1):
        try:
            format(sample, spec)
            return None
        except (ValueError, TypeError, OverflowError) as exc:
            problems.append(str(exc))
    return shorten(problems[0], 100)


def format_column(table: Table, index: int, spec: str) -> list[str]:
    """Column ``index``'s cells with ``spec`` (checked by check_format) applied; empty cells stay empty.

    TableError, naming the data file's line, for a cell that is not a number or that ``spec`` cannot format.
    """
    name = shorten(table.columns[index], 40)
    out = []
    for row in table.rows:
        cell = row.cells[index]
        if not cell:
            out.append("")
            continue
        number = table.number(cell)
        if number is None:
            raise TableError(f"{table.path}:{row.line}: '{shorten(cell, 40)}' in column '{name}' is not a number,"
                             f" so the format '{spec}' cannot apply")
        try:
            out.append(format(number, spec))
        except (ValueError, TypeError, OverflowError) as exc:
            raise TableError(f"{table.path}:{row.line}: the format '{spec}' cannot write {shorten(cell, 40)}"
                             f" in column '{name}': {shorten(str(exc), 100)}") from None
    return out
