"""The site's search: a Pagefind index of every post, made at build, and the reader's search script.

Pagefind (PyPI ``pagefind[bin]``, which ships its binary) indexes a copy of each post
(``copies.py``) and writes the index: ``pagefind.js`` (the client the search script imports), its
worker and WebAssembly, and content-hashed chunks of the index and of each page's text. They go
into the build's output tree under ``assets/pagefind/``, so they are published with the rest of the
build in one step; the UI bundles Pagefind also writes are left out (the theme has its own,
``browser/search.js``, which a strict CSP allows). The script is published under a name that
changes with its content.

The index holds each post's address as the site links it (under the base path). It is made only
when something it holds changed: its source is a digest of every post's address and body (their
keys, as the pages use), what their references to other posts show, and the versions of LabPress
and Pagefind; when that digest and the previous build's index files are intact, they are kept.

The copies are a folder of pages, kept in the cache (``search-pages/``, with a sealed record of
what each copy was made from and its digest), so a build after one edit makes one copy again, not
all of them; without a cache, a scratch folder. Pagefind's command indexes that folder into a
scratch folder, removed before the build publishes; it runs while the build renders its pages, and
``SearchAssets.finish()`` waits for it and puts the index into the tree.

Why the command and not Pagefind's Python API (``pagefind.index.PagefindIndex``, which drives the
same binary as a service): the service replies to "write the files" before its writes are done,
and the wrapper then stops it, so files may be left empty or cut short (seen here, under load: an
empty ``pagefind-entry.json``); the wrapper reads one reply per tenth of a second (one
``add_html_file`` per post: 100 s for a thousand posts); and it reads replies through a 2 MiB
buffer, so ``get_files`` of a large index never returns. The command writes every file before it
exits. It is run in an empty scratch folder with no ``PAGEFIND_`` variables, so no configuration
file or setting of the author's applies.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import threading
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from labpress.cache.digests import code_digest, digest
from labpress.cache.store import seal, unseal, write_atomically
from labpress.errors import ConfigError
from labpress.markdown.xref import fill_post_references, references_used
from labpress.search.copies import search_copy
from labpress.theme.lookup import fingerprint

INDEX_DIR = "assets/pagefind/"
ENTRY = "pagefind-entry.json"
SCRIPT = Path(__file__).resolve().parent.parent / "browser" / "search.js"
# Pagefind's files the search script uses (the rest of what it writes is its own UI, and its playground).
CLIENT_FILES = ("pagefind.js", "pagefind-worker.js", ENTRY)
INDEX_FOLDERS = ("index/", "fragment/", "filter/")
SECONDS = 600  # Pagefind indexing a large site takes seconds; a binary that hangs fails the build
PAGES_DIR = "search-pages"  # in the cache folder: the copies Pagefind reads, kept between builds
RECORD = "copies.json"  # in it: {URL: [what the copy was made from, sha256 of the file]}


@dataclass
class SearchAssets:
    """URL paths, relative to the site root, of the search script and of the index's folder (there is
    no index when there are no posts: ``pages`` is 0); and,
    while Pagefind makes the index, ``finish()``, which waits for it and writes it into the tree."""

    script: str
    index: str = INDEX_DIR
    pages: int = 0  # posts in the index
    indexed: bool = False  # made by this build (False: kept from the previous one)
    deferred: "DeferredIndex | None" = field(default=None, repr=False, compare=False)  # made after publishing
    _finish: object = field(default=None, repr=False, compare=False)

    def finish(self) -> None:
        """The index in the output tree (Pagefind runs while the build renders its pages)."""
        if self._finish is not None:
            finish, self._finish = self._finish, None
            finish()


def pagefind_version() -> str:
    try:
        return metadata.version("pagefind_bin") + "/" + metadata.version("pagefind")
    except metadata.PackageNotFoundError:
        return "absent"


def index_language(language: str) -> str:
    """The ISO 639-1 code Pagefind indexes in (its stemmer and word rules): ``en`` for ``en-GB``."""
    return (language or "en").replace("_", "-").split("-")[0].lower() or "en"


def write_search(site, config, tree, labels: dict, cache_dir: Path | None = None, defer: bool = False,
                 memo: dict | None = None, pagefind: str | None = None, only: list | None = None,
                 texts: dict | None = None) -> SearchAssets:
    """The search script and the index of ``site``'s posts into ``tree``. ``labels``: the site's
    cross-reference labels (markdown/xref.py), filled into the posts as their pages show them;
    ``cache_dir``: the cache folder, where the posts' copies are kept (None: made afresh).

    ``defer`` (``labpress serve``): an index that must be made again is not waited for: the tree
    keeps the previous build's index, and the SearchAssets carry a ``DeferredIndex`` that makes
    the new one later. ``memo``: each post's digest of what its copy is made from, kept between
    builds by the objects it was made from (site/memory.py); ``pagefind``: Pagefind's version, when
    the caller knows it; ``only``: for the same site as last time, with a tree that holds the last
    build's files, the posts that may have changed; ``texts``: a post's ``body_text_html`` of its
    HTML by its body (made where the post was rendered), for the posts whose HTML is what their page shows."""
    script = SCRIPT.read_bytes()
    script_path = f"assets/search.{fingerprint(script)}.js"
    tree.write(script_path, script)

    language = index_language(config.language)
    # What each post's copy is made from. As for pages (site/pages.py): a post's key stands for its
    # body, its inputs for what its code read; without a cache (no key), its HTML itself.
    changed = [memo is None]
    last = memo.get("site") if memo is not None else None
    if only is not None and last is not None and last[0] is site:
        posts, made_from = last[1], dict(last[2])
        for post in only:
            url = config.url(post.path)
            made_from[url] = _made_from(post, labels, memo, url, changed)
    else:
        only = None
        posts = {config.url(post.path): post for post in site.posts}
        made_from = {url: _made_from(post, labels, memo, url, changed) for url, post in posts.items()}
    if memo is not None:
        memo["site"] = (site, posts, made_from)
    if not posts:  # nothing to index (Pagefind makes no index of no pages): the box says so
        return SearchAssets(script_path)
    version = pagefind if pagefind is not None else pagefind_version()
    known = memo.get(None) if memo is not None else None
    if known is not None and not changed[0] and known[0] == (version, language, list(made_from)):
        source = known[1]
    else:
        source = digest("search", version, language, sorted(made_from.items()))
        if memo is not None:
            memo[None] = ((version, language, list(made_from)), source)
    entry = INDEX_DIR + ENTRY
    previous = tree.reusable(entry, source)
    if previous is not None:
        files = previous.extra.get("files", [])
        if all(tree.previous.intact(INDEX_DIR + name) is not None for name in files):
            for name in [ENTRY, *files]:
                tree.keep(INDEX_DIR + name)
            return SearchAssets(script_path, pages=len(posts))

    def copy(url: str) -> bytes:
        post = posts[url]
        html = fill_post_references(post.html, labels)
        text = texts.get(id(post.body)) if texts and html is post.html else None  # (no reference filled in)
        return search_copy(post.meta.title, post.meta.summary, post.meta.date.isoformat(), html, text).encode("utf-8")

    if defer:
        if only is None:  # (a tree that holds the last build's files holds its index)
            _keep_previous_index(tree)
        return SearchAssets(script_path, pages=len(posts),
                            deferred=DeferredIndex(source, made_from, copy, language, cache_dir))
    pages, scratch = _pages_folder(cache_dir)
    # The copies are written here and now, not in the thread that runs Pagefind: beside the build's
    # own thread, which renders the pages meanwhile, each of a thousand small writes would wait for
    # the interpreter's lock (seconds, against a few tenths here), and Pagefind would start that late.
    try:
        update_copies(pages, made_from, copy)
    except BaseException:
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)
        raise
    indexing = _Indexing(pages, language, scratch)

    def finish() -> None:
        _write_index(tree, indexing.result(), source)

    return SearchAssets(script_path, pages=len(posts), indexed=True, _finish=finish)


def _made_from(post, labels: dict, memo: dict | None, url: str, changed: list) -> str:
    """The digest of what a post's copy is made from; ``memo``: kept by the body it was made from and
    the labels (the same objects: references to other posts show the same), ``changed[0]`` set when not."""
    known = memo.get(url) if memo is not None else None
    if known is not None and known[0] is post.body and known[1] == post.key and known[2] is labels:
        return known[3]
    shown = (post.key, post.body.inputs) if post.key else post.html
    references = references_used(post.body, labels)
    if known is not None and known[0] is post.body and known[1] == post.key and known[4] == references:
        value = known[3]
    else:
        value = digest(code_digest(), shown, references)
        changed[0] = True
    if memo is not None:
        memo[url] = (post.body, post.key, labels, value, references)
    return value


def _write_index(tree, files: dict[str, bytes], source: str) -> None:
    others = sorted(name for name in files if name != ENTRY)
    for name in others:
        tree.write(INDEX_DIR + name, files[name])
    tree.write(INDEX_DIR + ENTRY, files[ENTRY], source, {"files": others})


def _keep_previous_index(tree) -> None:
    """The previous build's index, intact, kept in ``tree`` (it still names its own source, so a later
    build knows to make the index again)."""
    previous = tree.previous.intact(INDEX_DIR + ENTRY) if tree.previous is not None else None
    if previous is None:
        return
    files = previous.extra.get("files", [])
    if all(tree.previous.intact(INDEX_DIR + name) is not None for name in files):
        for name in [ENTRY, *files]:
            tree.keep(INDEX_DIR + name)


class DeferredIndex:
    """An index to make after the pages are published (``labpress serve``): ``start()`` makes the
    copies and runs Pagefind in a thread; ``done()`` says whether it has finished, and ``write(tree)``
    puts the index into a tree (raising what the thread raised)."""

    def __init__(self, source: str, made_from: dict[str, str], copy, language: str, cache_dir: Path | None):
        self.source = source
        self.made_from = made_from
        self.copy = copy
        self.language = language
        self.cache_dir = cache_dir
        self.files: dict[str, bytes] | None = None
        self.failure: BaseException | None = None
        self.thread: threading.Thread | None = None

    def start(self, when_done=None) -> None:
        def run() -> None:
            scratch = None
            try:
                pages, scratch = _pages_folder(self.cache_dir)
                update_copies(pages, self.made_from, self.copy)
                self.files = run_pagefind(pages, self.language, background=True)
            except BaseException as exc:  # raised by write(), in the builder's thread
                self.failure = exc
            finally:
                if scratch:
                    shutil.rmtree(scratch, ignore_errors=True)
                if when_done is not None:
                    when_done()

        self.thread = threading.Thread(target=run, name="labpress-search-index", daemon=True)
        self.thread.start()

    def done(self) -> bool:
        return self.thread is not None and not self.thread.is_alive()

    def wait(self, timeout: float | None = None) -> None:
        if self.thread is not None:
            self.thread.join(timeout)

    def write(self, tree) -> None:
        self.wait()
        if self.failure is not None:
            raise self.failure
        _write_index(tree, self.files, self.source)


class _Indexing:
    """``run_pagefind`` in a thread of its own (the binary does the work, in its own process, while
    the build renders pages); the scratch folder of copies, if any, removed after."""

    def __init__(self, pages: Path, language: str, scratch: Path | None):
        self.files: dict[str, bytes] | None = None
        self.failure: BaseException | None = None

        def run() -> None:
            try:
                self.files = run_pagefind(pages, language)
            except BaseException as exc:  # raised by result(), in the build's thread
                self.failure = exc
            finally:
                if scratch:
                    shutil.rmtree(scratch, ignore_errors=True)

        self.thread = threading.Thread(target=run, name="labpress-search-index")
        self.thread.start()

    def result(self) -> dict[str, bytes]:
        self.thread.join()
        if self.failure is not None:
            raise self.failure
        return self.files


def _pages_folder(cache_dir: Path | None) -> tuple[Path, Path | None]:
    """The folder of copies Pagefind reads, and the scratch folder to remove once it has (None: the
    cache's own, kept)."""
    if cache_dir is None:
        scratch = Path(tempfile.mkdtemp(prefix="labpress-search-"))
        return scratch, scratch
    folder = cache_dir / PAGES_DIR
    if folder.is_symlink() or folder.exists() and not folder.is_dir():
        folder.unlink()  # not the cache's folder: made again
    folder.mkdir(exist_ok=True)
    return folder, None


def update_copies(folder: Path, made_from: dict[str, str], copy) -> int:
    """The folder Pagefind reads made to hold exactly the copy of each post (``copy(url)``, the page's
    bytes), at ``URL/index.html``; a copy already there made from the same ``made_from[url]``, and
    intact, is kept. Returns how many copies were made."""
    record_path = folder / RECORD
    try:
        payload = unseal("search-copies", record_path.read_bytes())
        record = json.loads(payload) if payload is not None else {}
        if not isinstance(record, dict):
            record = {}
    except (OSError, ValueError):
        record = {}
    wanted = {url: folder / url.strip("/") / "index.html" for url in made_from}
    kept, writes = {}, []
    for url, path in sorted(wanted.items()):
        known = record.get(url)
        if isinstance(known, list) and len(known) == 2 and known[0] == made_from[url] and _sha256(path) == known[1]:
            kept[url] = known
            continue
        data = copy(url)
        writes.append((path, data))
        kept[url] = [made_from[url], hashlib.sha256(data).hexdigest()]

    for path, data in writes:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    # Whatever else is there (removed posts, another base path, a person's files) is not indexed.
    paths = set(wanted.values())
    for found in sorted(folder.rglob("*"), reverse=True):
        if found == record_path or found in paths:
            continue
        if found.is_dir() and not found.is_symlink():
            with contextlib.suppress(OSError):
                found.rmdir()  # only once empty
        else:
            found.unlink()
    write_atomically(record_path, seal("search-copies", json.dumps(kept, sort_keys=True).encode("utf-8")))
    return len(writes)


def _sha256(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def run_pagefind(pages: Path, language: str, background: bool = False) -> dict[str, bytes]:
    """Pagefind's index of the pages in the folder ``pages`` (``URL/index.html``, such as
    ``notes/a-post/index.html`` for ``/notes/a-post/``): the files the search script loads, by path
    relative to the index folder. ``background``: at a lower priority (``labpress serve`` goes on
    building meanwhile, and its builds come first)."""
    try:
        from pagefind.service import get_executable
    except ImportError:
        raise ConfigError("error: the search index needs Pagefind: pip install 'pagefind[bin]'") from None
    binary = get_executable()
    if binary is None:
        raise ConfigError("error: the search index needs Pagefind's binary, which is not installed:"
                          " pip install 'pagefind[bin]'")
    environment = {name: value for name, value in os.environ.items() if not name.startswith("PAGEFIND_")}
    with tempfile.TemporaryDirectory(prefix="labpress-search-") as scratch:
        out = Path(scratch) / "index"
        command = [str(binary), "--site", str(pages), "--output-path", str(out), "--force-language", language,
                   "--glob", "**/*.html", "--silent"]
        try:
            nice = shutil.which("nice") if background else None  # (preexec_fn is unsafe beside threads)
            done = subprocess.run([nice, "-n", "19", *command] if nice else command, cwd=scratch, env=environment,
                                  capture_output=True, text=True, timeout=SECONDS)
        except subprocess.TimeoutExpired:
            raise ConfigError(f"error: Pagefind did not finish indexing the site within {SECONDS} s") from None
        except OSError as exc:
            raise ConfigError(f"error: Pagefind's binary {binary} could not run: {exc}") from None
        if done.returncode != 0:
            said = " ".join((done.stderr or done.stdout).split())[-400:]
            raise ConfigError(f"error: Pagefind could not index the site (exit {done.returncode}): {said}")
        files = {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}
    try:
        languages = json.loads(files[ENTRY])["languages"]
    except (KeyError, ValueError, TypeError):
        raise ConfigError("error: Pagefind wrote no readable index (pagefind-entry.json)") from None
    wasm = {f"wasm.{entry['wasm']}.pagefind" for entry in languages.values()}
    return {name: data for name, data in files.items()
            if name in CLIENT_FILES or name in wasm or name.endswith(".pf_meta") or name.startswith(INDEX_FOLDERS)}
