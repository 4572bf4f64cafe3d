"""The build's promises under faults: one build at a time, caches that never lose rows or hold
handles, never trusted when damaged, and an output folder that is always one whole build."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from labpress.site.pipeline import CACHE_DIR, build_site
from labpress.errors import ConfigError
from labpress.site.locking import site_lock
from labpress.site.output import leftovers

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))
from corpus import make_corpus  # noqa: E402
from support import DIAL, tree  # noqa: E402

def labpress(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "labpress", *args], capture_output=True, text=True, timeout=timeout)


def small_site(site):
    (site.root / "widgets").mkdir()
    (site.root / "widgets" / "dial.py").write_text(DIAL)
    for n, name in enumerate(("one", "two", "three"), 1):
        extra = "\n::: widget dial\n:::\n" if name == "two" else ""
        site.post(f"{name}.md", f"---\ntitle: Post {name}\ndate: 2026-01-0{n}\nseries: basics\nstep: {n}\ntags: [t]\n---\n\n"
                                f"## Method\n\nBody of {name} with $x_{n} + \\alpha^{n}$ and\n\n$$\\int_0^{n} f$$\n{extra}")


def clean_tree(site, tmp_path: Path) -> dict[str, bytes]:
    clean = tmp_path / f"clean-{time.monotonic_ns()}"
    build_site(site.root, out_dir=clean, use_cache=False)
    return tree(clean)


def katex_rows(site_dir: Path) -> int:
    with sqlite3.connect(site_dir / CACHE_DIR / "katex.sqlite") as db:
        return db.execute("SELECT count(*) FROM formulas").fetchone()[0]


# --------------------------------------------------------------------------- locks and handles


def test_repeated_config_and_formula_edits_with_workers_keep_every_formula(tmp_path):
    """Change the title and add a formula, build with worker processes, three times: each build ends,
    and the formula cache only grows."""
    root = make_corpus(tmp_path / "corpus", 60)
    assert labpress("build", str(root), "-j", "2", "-q").returncode == 0
    rows = katex_rows(root)
    config = root / "labpress.toml"
    for n in range(3):
        config.write_text(config.read_text().replace("Benchmark notebook", f"Notebook {n}").replace(f"Notebook {n - 1}", f"Notebook {n}"))
        with (root / "content" / "exp-00001.md").open("a") as post:
            post.write(f"\n$$ y = {n} x^{{{n + 2}}} $$\n")
        result = labpress("build", str(root), "-j", "2", "-q", timeout=90)
        assert result.returncode == 0, result.stderr
        now = katex_rows(root)
        assert now == rows + 1, (n, rows, now)
        rows = now
    assert tree(root / "build") == clean_tree(type("S", (), {"root": root}), tmp_path)


def _cache_handles(cache: Path) -> list[str]:
    found = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith(str(cache)):
            found.append(target)
    return found


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc")
def test_a_long_running_process_holds_no_handle_on_the_caches_between_builds(site):
    small_site(site)
    cache = site.root / CACHE_DIR
    for n in range(6):
        post = site.root / "content" / "one.md"
        post.write_text(post.read_text() + f"\nMore $y_{n}$.\n")
        build_site(site.root)
        assert _cache_handles(cache) == []
    assert katex_rows(site.root) >= 6


def test_a_second_build_waits_for_the_first_or_stops_at_once(site, tmp_path):
    small_site(site)
    cache = site.root / CACHE_DIR
    cache.mkdir()
    with site_lock(cache, 0, print):
        stopped = labpress("build", str(site.root), "--no-wait")
        assert stopped.returncode == 2
        assert "another build of this site is running" in stopped.stderr and "Traceback" not in stopped.stderr
        assert not site.out.exists()
        waiting = subprocess.Popen([sys.executable, "-m", "labpress", "build", str(site.root)],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        first_line = waiting.stderr.readline()
        assert "waiting for another build of this site" in first_line
        assert waiting.poll() is None
    assert waiting.wait(timeout=60) == 0
    assert tree(site.out) == clean_tree(site, tmp_path)


def test_a_wait_for_another_build_is_bounded(site):
    small_site(site)
    cache = site.root / CACHE_DIR
    cache.mkdir()
    with site_lock(cache, 0, print):
        started = time.monotonic()
        with pytest.raises(ConfigError, match="still running"):
            build_site(site.root, wait=0.3, notify=lambda message: None)
        assert time.monotonic() - started < 10


def test_two_builds_at_once_both_succeed_and_corrupt_nothing(site, tmp_path):
    small_site(site)
    runs = [subprocess.Popen([sys.executable, "-m", "labpress", "build", str(site.root), "-q"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(3)]
    for run in runs:
        out, err = run.communicate(timeout=120)
        assert run.returncode == 0, err
        assert "internal error" not in err
    assert tree(site.out) == clean_tree(site, tmp_path)
    assert leftovers(site.out) == []


# --------------------------------------------------------------------------- damaged caches


def _flip(path: Path, at: int) -> None:
    data = bytearray(path.read_bytes())
    data[at % len(data)] ^= 0x5A
    path.write_bytes(bytes(data))


def _cache_files(cache: Path) -> list[Path]:
    return sorted(p for p in cache.rglob("*") if p.is_file() and p.name != "build.lock")


def test_byte_flips_in_every_cache_file_never_change_the_output(site, tmp_path):
    small_site(site)
    assert site.build().returncode == 0
    expected = clean_tree(site, tmp_path)
    cache = site.root / CACHE_DIR
    pristine = tmp_path / "pristine-cache"
    shutil.copytree(cache, pristine)
    files = [p.relative_to(cache) for p in _cache_files(cache)]
    assert {"posts.sqlite", "katex.sqlite"} <= {f.name for f in files}
    assert any(f.name.startswith("output-") for f in files) and any(f.parts[0] == "templates" for f in files)
    for relative in files:
        size = (cache / relative).stat().st_size
        for at in sorted({size // 2, size - 10, size * 3 // 4, size - 300, 120}):
            shutil.rmtree(cache)
            shutil.copytree(pristine, cache)
            _flip(cache / relative, at)
            result = site.build()
            assert result.returncode == 0, (relative, at, result.stderr)
            assert "internal error" not in result.stderr, (relative, at, result.stderr)
            assert tree(site.out) == expected, (relative, at)


def _update(db_file: Path, sql: str) -> None:
    with sqlite3.connect(db_file) as db:
        db.execute(sql)


def test_a_changed_character_in_a_cached_post_or_formula_is_noticed(site, tmp_path):
    small_site(site)
    assert site.build().returncode == 0
    expected = clean_tree(site, tmp_path)
    cache = site.root / CACHE_DIR
    _update(cache / "posts.sqlite", "UPDATE posts SET html = replace(html, 'Body of', 'Bodu of')")
    # The rows of the formulas: changed, and one made a different type (an undecodable column).
    _update(cache / "katex.sqlite", "UPDATE formulas SET html = replace(html, 'mord', 'mxrd')")
    result = site.build()
    assert result.returncode == 0 and tree(site.out) == expected
    site.post("one.md", (site.root / "content" / "one.md").read_text() + "\nAnd $z$.\n")
    _update(cache / "katex.sqlite", "UPDATE formulas SET html = CAST(html AS BLOB)")
    _update(cache / "posts.sqlite", "UPDATE posts SET body = x'00ff00'")
    result = site.build()
    assert result.returncode == 0, result.stderr
    assert "damaged" in result.stderr
    assert tree(site.out) == clean_tree(site, tmp_path)


def test_garbage_cache_files_are_set_aside_with_one_line(site, tmp_path):
    small_site(site)
    assert site.build().returncode == 0
    expected = clean_tree(site, tmp_path)
    cache = site.root / CACHE_DIR
    (cache / "posts.sqlite").write_bytes(b"this is not a database" * 100)
    (cache / "katex.sqlite").write_bytes(os.urandom(8192))
    for template in (cache / "templates").iterdir():
        template.write_bytes(template.read_bytes()[:40])  # truncated
    result = site.build()
    assert result.returncode == 0, result.stderr
    assert sum("set aside" in line for line in result.stderr.splitlines()) == 2
    assert (cache / "posts.sqlite.damaged").is_file()
    assert tree(site.out) == expected
    again = site.build()
    assert again.returncode == 0 and "set aside" not in again.stderr
    assert tree(site.out) == expected


def test_a_cache_folder_that_is_a_file_is_set_aside(site, tmp_path):
    small_site(site)
    (site.root / CACHE_DIR).write_text("oops")
    result = site.build()
    assert result.returncode == 0, result.stderr
    assert "not a folder" in result.stderr
    assert (site.root / CACHE_DIR).is_dir()
    assert tree(site.out) == clean_tree(site, tmp_path)


def test_a_killed_writer_leaves_a_journal_that_is_rolled_back(site, tmp_path):
    small_site(site)
    assert site.build().returncode == 0
    posts = site.root / CACHE_DIR / "posts.sqlite"
    # A writer killed in the middle of a transaction leaves a hot journal behind it.
    script = textwrap.dedent(f"""
        import os, sqlite3
        db = sqlite3.connect({str(posts)!r}, isolation_level=None)
        db.execute("PRAGMA cache_size = 1")
        db.execute("BEGIN IMMEDIATE")
        db.execute("UPDATE posts SET html = html || randomblob(20000)")
        os.kill(os.getpid(), 9)
    """)
    subprocess.run([sys.executable, "-c", script])
    assert posts.with_name("posts.sqlite-journal").exists()
    result = site.build()
    assert result.returncode == 0, result.stderr
    assert tree(site.out) == clean_tree(site, tmp_path)


# --------------------------------------------------------------------------- publishing in one step


def test_files_that_come_late_are_published_with_the_rest_in_one_step(tmp_path):
    """A clean build stages its pages while the search index is still being made (publish's ``late``):
    the output folder appears only once the late files are in, with what they changed or removed."""
    from labpress.site.output import OutputTree, publish

    out = tmp_path / "build"
    staged = OutputTree()
    staged.write("index.html", "home")
    staged.write("a/index.html", "first version")
    staged.write("gone.txt", "soon removed")
    seen = []

    def late():
        seen.append(out.exists())
        staged.write("assets/pagefind/index.pf", b"index")
        staged.write("a/index.html", "second version")
        del staged.files["gone.txt"]

    publish(staged, out, None, late=late)
    assert seen == [False]  # nothing published before the late files came
    assert tree(out) == {"index.html": b"home", "a/index.html": b"second version",
                         "assets/pagefind/index.pf": b"index"}
    assert leftovers(out) == []


def test_unchanged_files_are_hard_links_and_a_no_change_build_touches_nothing(site):
    small_site(site)
    assert site.build().returncode == 0
    before = {p: p.stat().st_ino for p in site.out.rglob("*") if p.is_file()}
    assert site.build().returncode == 0
    assert {p: p.stat().st_ino for p in site.out.rglob("*") if p.is_file()} == before
    post = site.root / "content" / "one.md"
    post.write_text(post.read_text().replace("Body of one", "New body of one"))
    assert site.build().returncode == 0
    after = {p: p.stat().st_ino for p in site.out.rglob("*") if p.is_file()}
    assert after[site.out / "one" / "index.html"] != before[site.out / "one" / "index.html"]
    assert after[site.out / "two" / "index.html"] == before[site.out / "two" / "index.html"]


def test_stray_files_and_leftovers_of_killed_builds_are_cleaned_up(site, tmp_path):
    small_site(site)
    assert site.build().returncode == 0
    (site.out / ".labpress-x.tmp").write_text("half")
    (site.out / "one" / "stray.html").write_text("stray")
    for name in (".build.staging-abc", ".build.old-def"):
        (site.root / name / "x").mkdir(parents=True)
    assert site.build().returncode == 0
    assert leftovers(site.out) == []
    assert tree(site.out) == clean_tree(site, tmp_path)


def test_an_old_tree_is_put_back_when_a_build_died_between_two_renames(site, tmp_path):
    small_site(site)
    assert site.build().returncode == 0
    expected = tree(site.out)
    os.replace(site.out, site.root / ".build.old-killed")
    assert site.build().returncode == 0
    assert tree(site.out) == expected and leftovers(site.out) == []


_KILLER = """
import os, signal, sys
out, parent, kill_at = sys.argv[1], os.path.dirname(sys.argv[1]), int(sys.argv[2])
name = os.path.basename(out)
cache = os.path.join(parent, ".labpress-cache") + os.sep
seen = 0
WATCHED = {"open", "os.link", "os.rename", "os.remove", "os.rmdir", "os.mkdir", "shutil.rmtree", "os.chmod"}

def hook(event, args):
    # What the build does to the output folder (and its staging folder), and the cache files it
    # writes in place by renaming a temporary file (the manifest, the stamp): each one a moment to die.
    global seen
    if event in WATCHED and args and isinstance(args[0], (str, bytes, os.PathLike)):
        path = os.fsdecode(args[0])
        rest = os.path.relpath(path, parent) if os.path.isabs(path) else ""
        written = path.startswith(cache) and path.endswith(".tmp")
        if rest == name or rest.startswith((name + os.sep, "." + name + ".")) or written:
            seen += 1
            if kill_at == 0:
                print("EV", seen, event, "cache" if written else rest.partition(os.sep)[0], file=sys.stderr)
            if seen == kill_at:
                os.kill(os.getpid(), signal.SIGKILL)

sys.addaudithook(hook)
from labpress.cli import main
code = main(sys.argv[3:])
print("EVENTS", seen, file=sys.stderr)
sys.exit(code)
"""


def _run_killed(site_dir: Path, kill_at: int, *args: str) -> subprocess.CompletedProcess:
    out = site_dir / "build"
    return subprocess.run([sys.executable, "-c", _KILLER, str(out), str(kill_at), "build", str(site_dir), "-q", *args],
                          capture_output=True, text=True, timeout=120)


def _moments(log: str) -> dict[str, int]:
    """The moments to kill a build at, by the phase they fall in, from a finished build's events:
    the first thing it does to the output, a file written in the middle of the new tree, the last
    step before the exchange and the first after it, and (with a cache) the manifest being written."""
    events = [line.split() for line in log.splitlines() if line.startswith("EV ")]
    staging = [int(n) for _, n, event, where in events if where.startswith(".") and event == "open"]
    exchange = next(int(n) for _, n, event, where in events if event == "os.chmod")
    moments = {"first": 1, "write": staging[len(staging) // 2], "before exchange": exchange,
               "after exchange": exchange + 1}
    manifest = [int(n) for _, n, event, where in events if where == "cache" and int(n) > exchange]
    if manifest:
        moments["cache write"] = manifest[0]
    return moments


@pytest.mark.parametrize("mode", ["incremental", "clean"])
def test_a_build_killed_at_any_moment_leaves_the_old_output_or_the_new(tmp_path, mode):
    """A site, its title changed (every page changes): the build is killed in each phase of what it
    does, from its events (the new tree written, both sides of the exchange, the manifest written),
    and in time while its posts render. After each kill the output folder holds the old tree or the
    new, exactly; the next build cleans up and equals a clean build."""
    base = make_corpus(tmp_path / "base", 40)
    assert labpress("build", str(base), "-q").returncode == 0
    old = tree(base / "build")
    config = base / "labpress.toml"
    config.write_text(config.read_text().replace("Benchmark notebook", "Renamed notebook"))
    flags = ("--no-cache", "-j", "2") if mode == "clean" else ("-j", "2")

    def fresh_copy(name: str) -> Path:
        copy = tmp_path / name
        shutil.copytree(base, copy, symlinks=True)
        return copy

    def cleaned_up(site_dir: Path) -> None:
        """The next build cleans up what the killed one left, and equals a clean build."""
        again = labpress("build", str(site_dir), "-q")
        assert again.returncode == 0, again.stderr
        assert tree(site_dir / "build") == new and leftovers(site_dir / "build") == []
        assert not [p for p in (site_dir / CACHE_DIR).iterdir() if p.name.endswith(".tmp")]

    reference = fresh_copy("reference")
    started = time.monotonic()
    finished = _run_killed(reference, 0, *flags)
    duration = time.monotonic() - started
    assert finished.returncode == 0, finished.stderr
    new = tree(reference / "build")
    assert new != old
    assert int(finished.stderr.split("EVENTS")[-1]) > 100
    moments = _moments(finished.stderr)
    assert ("cache write" in moments) == (mode == "incremental")
    outcomes = {"old": 0, "new": 0}
    for n, (phase, kill_at) in enumerate(sorted(moments.items(), key=lambda item: item[1])):
        site_dir = fresh_copy(f"run-{n}")
        killed = _run_killed(site_dir, kill_at, *flags)
        assert killed.returncode == -9, (phase, kill_at, killed.stderr)
        after = tree(site_dir / "build")
        assert after in (old, new), phase
        outcomes["old" if after == old else "new"] += 1
        if phase in ("write", "after exchange", "cache write"):
            assert leftovers(site_dir / "build") or phase == "cache write"
            cleaned_up(site_dir)
        shutil.rmtree(site_dir)
    assert outcomes["old"] and outcomes["new"]
    # Killed in time, while the posts render (from the measured duration of the reference build).
    site_dir = fresh_copy("timed")
    run = subprocess.Popen([sys.executable, "-m", "labpress", "build", str(site_dir), "-q", *flags],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        run.wait(timeout=duration * 0.35)
    except subprocess.TimeoutExpired:
        run.kill()
        run.wait()
    assert tree(site_dir / "build") in (old, new)
    cleaned_up(site_dir)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.10", "example.org"])
def test_the_dev_server_listens_on_loopback_only(site, host):
    result = labpress("serve", str(site.root), "--host", host, "--port", "0", timeout=30)
    assert result.returncode == 2
    assert "not a loopback address" in result.stderr and "Traceback" not in result.stderr


def test_an_output_folder_that_would_replace_the_site_or_foreign_files_is_refused(site, tmp_path):
    small_site(site)
    before = tree(site.root)
    for out in (site.root, site.root.parent, site.root / "content"):
        result = site.build("--out", str(out))
        assert result.returncode == 2 and "would replace the site" in result.stderr, out
    foreign = tmp_path / "documents"
    (foreign / "notes").mkdir(parents=True)
    (foreign / "notes" / "thesis.tex").write_text("years of work")
    result = site.build("--out", str(foreign))
    assert result.returncode == 2 and "not a LabPress build" in result.stderr
    assert (foreign / "notes" / "thesis.tex").read_text() == "years of work"
    assert {k: v for k, v in tree(site.root).items() if not k.startswith(".labpress-cache")} == before
    assert site.build("--out", str(tmp_path / "empty-or-new")).returncode == 0


def _children(pid: int) -> set[int]:
    found = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        found |= {int(p) for p in (task / "children").read_text().split()}
    return found


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs /proc")
def test_worker_processes_end_when_their_build_is_killed(tmp_path):
    root = make_corpus(tmp_path / "corpus", 60)
    build = subprocess.Popen([sys.executable, "-m", "labpress", "build", str(root), "-j", "2", "-q", "--no-cache"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    workers: set[int] = set()
    deadline = time.monotonic() + 60
    while len(workers) < 2 and build.poll() is None and time.monotonic() < deadline:
        workers = {pid for pid in _children(build.pid)
                   if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()}
        time.sleep(0.01)
    assert len(workers) == 2, "the build should have started two workers"
    build.kill()
    build.wait()
    deadline = time.monotonic() + 15
    while workers and time.monotonic() < deadline:
        workers = {pid for pid in workers if Path(f"/proc/{pid}").exists()
                   and "Z" not in Path(f"/proc/{pid}/stat").read_text().split()[2]}
        time.sleep(0.05)
    assert not workers, "workers outlived the build"
