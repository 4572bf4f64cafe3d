"""``labpress init``: write the starter notebook in ``files/`` into a folder.

``files/`` is itself a small working site, kept as real files so that each can be read and
edited as what it is. A part of a path there that starts with ``dot-`` is written with a dot
instead (``dot-gitignore`` is ``.gitignore``, ``dot-github/`` is ``.github/``): a package's data
files are found by glob patterns, which pass over names starting with a dot. Three things are
filled in as the files are written: the title and base URL given on the command line (in
``labpress.toml``), today's date (the example post's ``date:``) and the version of LabPress that
wrote them (the workflow installs that one).

Nothing is overwritten: when any file to be written is already there, nothing is written at all.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from labpress import __version__
from labpress.config.schema import CONFIG_NAME, parse_base_url
from labpress.errors import ConfigError

STARTER = Path(__file__).resolve().parent / "files"
DOT = "dot-"

DEFAULT_TITLE = "My lab notebook"
TITLE_LINE = f'title = "{DEFAULT_TITLE}"\n'
BASE_URL_LINE = '# base_url = "https://you.github.io/my-notebook/"\n'
EXAMPLE_POST = "content/cooling-tea.md"
DATE_LINE = "date: 2026-01-10\n"
WORKFLOW = ".github/workflows/pages.yml"
VERSION_MARK = "__LABPRESS_VERSION__"


def starter_files() -> dict[str, Path]:
    """Each file's path in the new notebook (``/``-separated) and its packaged source, in order."""
    found = {}
    for source in STARTER.rglob("*"):
        parts = source.relative_to(STARTER).parts
        if not source.is_file() or "__pycache__" in parts:
            continue
        found["/".join("." + p[len(DOT):] if p.startswith(DOT) else p for p in parts)] = source
    return dict(sorted(found.items()))


def toml_string(text: str) -> str:
    """``text`` as a TOML basic string: quotes, backslashes and control characters escaped."""
    out = []
    for char in text:
        if char in '"\\':
            out.append("\\" + char)
        elif (ord(char) < 0x20 and char != "\t") or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def _checked_title(title: str | None) -> str:
    if title is None:
        return DEFAULT_TITLE
    try:
        title.encode("utf-8")
    except UnicodeEncodeError:  # bytes from the command line that are not UTF-8 (kept as surrogates)
        raise ConfigError("error: --title is not UTF-8 text") from None
    if not title.strip():
        raise ConfigError("error: --title must not be empty")
    return title.strip()


def _checked_base_url(base_url: str | None) -> str | None:
    """The base URL as labpress.toml will hold it (with its closing slash), or None."""
    if base_url is None:
        return None
    try:
        base_url.encode("utf-8")
    except UnicodeEncodeError:
        raise ConfigError("error: --base-url is not UTF-8 text") from None
    value = base_url.strip()
    if not value or any(c.isspace() or not c.isprintable() for c in value):
        raise ConfigError(f"error: --base-url must be an address such as https://you.github.io/my-notebook/, not {base_url!r}")
    origin, path = parse_base_url(value, "")  # the rule labpress.toml's base_url follows; a bare path stays one
    return origin + path


def _replace_once(text: str, old: str, new: str, where: str) -> str:
    if text.count(old) != 1:  # the packaged file was edited without this module
        raise AssertionError(f"{where} should hold {old!r} once")
    return text.replace(old, new)


def _contents(target: str, source: Path, title: str, base_url: str | None, today: dt.date) -> bytes:
    if target == CONFIG_NAME:
        text = source.read_text(encoding="utf-8")
        text = _replace_once(text, TITLE_LINE, f"title = {toml_string(title)}\n", target)
        if base_url is not None:
            text = _replace_once(text, BASE_URL_LINE, f"base_url = {toml_string(base_url)}\n", target)
        return text.encode("utf-8")
    if target == EXAMPLE_POST:
        text = _replace_once(source.read_text(encoding="utf-8"), DATE_LINE, f"date: {today.isoformat()}\n", target)
        return text.encode("utf-8")
    if target == WORKFLOW:
        return _replace_once(source.read_text(encoding="utf-8"), VERSION_MARK, __version__, target).encode("utf-8")
    return source.read_bytes()


def _in_the_way(site_dir: Path, targets) -> list[str]:
    """The targets already there, and the folders they need that are files (or links to nothing)."""
    found = []
    for target in targets:
        path = site_dir / target
        if os.path.lexists(path):
            found.append(target)
            continue
        for parent in list(Path(target).parents)[:-1]:  # content/, .github/workflows/, .github/
            there = site_dir / parent
            if os.path.lexists(there) and not there.is_dir():
                found.append(parent.as_posix())
    return sorted(set(found))


def write_notebook(site_dir: Path, title: str | None = None, base_url: str | None = None,
                   today: dt.date | None = None) -> list[str]:
    """Write the starter notebook into ``site_dir`` (made if need be); the paths written, in order.

    ConfigError (exit 2) when a file to be written, or a folder it needs, is already there as
    something else: then nothing is written. Folders already there are used as they are.
    """
    title = _checked_title(title)
    base_url = _checked_base_url(base_url)
    today = today or dt.date.today()
    files = starter_files()
    if os.path.lexists(site_dir) and not site_dir.is_dir():
        raise ConfigError(f"error: {site_dir} is a file, not a folder: give labpress init a folder")
    clashes = _in_the_way(site_dir, files)
    if clashes:
        listed = "".join(f"\n  {name}" for name in clashes)
        raise ConfigError(f"error: labpress init would overwrite {len(clashes)} file{'s' if len(clashes) != 1 else ''}"
                          f" in {site_dir}; nothing was written (move them aside, or choose another folder):{listed}")
    contents = {target: _contents(target, source, title, base_url, today) for target, source in files.items()}
    written: list[Path] = []
    made: list[Path] = []
    above = [folder for folder in reversed(site_dir.absolute().parents) if not folder.is_dir()]
    try:
        for target, data in contents.items():
            path = site_dir / target
            for folder in [*above, site_dir, *reversed(path.parents[:len(Path(target).parts) - 1])]:
                if not folder.is_dir():
                    folder.mkdir()
                    made.append(folder)
            with open(path, "xb") as handle:  # "x": never overwrite, even a file made since the check
                written.append(path)
                handle.write(data)
    except OSError as exc:
        for path in reversed(written):
            path.unlink(missing_ok=True)
        for folder in reversed(made):
            try:
                folder.rmdir()
            except OSError:
                pass
        what = exc.filename or site_dir
        reason = "it is already there" if isinstance(exc, FileExistsError) else (exc.strerror or str(exc))
        raise ConfigError(f"error: cannot write {what}: {reason}; nothing was written") from None
    return list(contents)
