"""Provenance: each post's record of how it was made (``<slug>/provenance.json``), the block at the
end of its page, the listings' mark of uncommitted posts, and ``labpress check --provenance``."""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import io
import json
import os
import platform
import re
import subprocess
import time
from pathlib import Path

import pytest

from labpress.cli import main
from labpress.provenance import git as provenance_git
from support import DIAL, tree

FIGURE = """\
---
title: Pendulum
date: 2026-02-02
tags: [swing]
---

Swings.

```python {run}
import os
names = sorted(os.listdir("data"))
```

```python {figure} alt="Angle against time"
data = np.loadtxt("data/pendulum.csv", delimiter=",", skiprows=1)
plt.plot(data[:, 0], data[:, 1])
```

::: widget dial
:::
"""
RUN_CODE = """\
import os
names = sorted(os.listdir("data"))
"""
FIGURE_CODE = """\
data = np.loadtxt("data/pendulum.csv", delimiter=",", skiprows=1)
plt.plot(data[:, 0], data[:, 1])
"""
PLAIN = """\
---
title: Notes
date: 2026-01-01
---

Nothing run here.
"""
PENDULUM = "t,theta\n0,0.30\n1,0.12\n2,-0.21\n"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def make(site) -> None:
    (site.root / "data").mkdir(exist_ok=True)
    (site.root / "data" / "pendulum.csv").write_text(PENDULUM)
    site.widget("dial", DIAL)
    site.post("p.md", FIGURE)
    site.post("notes.md", PLAIN)


def built(site, *args: str) -> None:
    result = site.build(*args)
    assert result.returncode == 0, result.stderr


def record(site, slug: str = "p") -> dict:
    return json.loads((site.out / slug / "provenance.json").read_text(encoding="utf-8"))


def page(site, slug: str = "") -> str:
    return (site.out / slug / "index.html").read_text(encoding="utf-8")


def check(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["check", *args])
    return code, out.getvalue(), err.getvalue()


def git(site, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "test@example.org",
           "GIT_COMMITTER_NAME": "Test", "GIT_COMMITTER_EMAIL": "test@example.org"}
    return subprocess.run(["git", "-C", str(site.root), "-c", "commit.gpgsign=false", *args], env=env,
                          check=True, capture_output=True, text=True).stdout


def committed(site) -> str:
    """The site in a fresh repository, everything committed; its commit."""
    (site.root / ".gitignore").write_text("build/\n.labpress-cache/\n__pycache__/\n")
    git(site, "init", "-q")
    git(site, "add", ".")
    git(site, "commit", "-q", "-m", "notebook")
    return git(site, "rev-parse", "HEAD").strip()


@pytest.fixture
def no_repository_above(site, monkeypatch):
    """git never looks above the site folder: a test machine's home may be a repository."""
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(site.root.parent))


# --- The record -------------------------------------------------------------------


def test_the_digests_are_the_sha256_of_the_files_the_post_was_made_from(site, no_repository_above):
    make(site)
    built(site)
    found = record(site)
    root = site.root
    assert found["source"] == {"path": "content/p.md", "sha256": sha256(root / "content" / "p.md")}
    listing = hashlib.sha256("\0".join(sorted(os.listdir(root / "data"))).encode()).hexdigest()
    assert found["data"] == [
        {"path": "data", "kind": "folder", "sha256": listing},
        {"path": "data/pendulum.csv", "kind": "file", "sha256": sha256(root / "data" / "pendulum.csv")},
    ]
    assert found["theme"] == {"name": "default", "files": [
        {"path": "static/style.css", "sha256": sha256(root / "themes" / "default" / "static" / "style.css")}]}
    assert found["kernels"] == [{"path": "widgets/dial.py", "sha256": sha256(root / "widgets" / "dial.py")}]
    assert found["code_blocks"] == [
        {"line": 9, "kind": "run", "sha256": hashlib.sha256(RUN_CODE.encode()).hexdigest()},
        {"line": 14, "kind": "figure", "sha256": hashlib.sha256(FIGURE_CODE.encode()).hexdigest()}]
    plain = record(site, "notes")
    assert (plain["data"], plain["theme"]["files"], plain["kernels"], plain["code_blocks"]) == ([], [], [], [])


def test_the_record_has_a_fixed_shape_and_no_build_time(site, no_repository_above):
    make(site)
    built(site)
    text = (site.out / "p" / "provenance.json").read_text(encoding="utf-8")
    found = json.loads(text)
    assert text == json.dumps(found, indent=2, ensure_ascii=False) + "\n"
    assert list(found) == ["format", "page", "source", "data", "theme", "kernels", "code_blocks", "versions", "git"]
    assert found["format"] == 1 and found["page"] == "p/"
    assert list(found["versions"]) == ["labpress", "python", "numpy", "matplotlib", "katex", "pyodide"]
    versions = found["versions"]
    assert versions["labpress"] == importlib.metadata.version("labpress")
    assert versions["python"] == platform.python_version()
    assert versions["numpy"] == importlib.metadata.version("numpy")
    assert versions["matplotlib"] == importlib.metadata.version("matplotlib")
    repo = Path(__file__).resolve().parent.parent
    for name in ("katex", "pyodide"):
        package = json.loads((repo / "node_modules" / name / "package.json").read_text())
        assert versions[name] == package["version"]
    assert found["git"] is None
    assert str(site.root) not in text  # paths are relative to the site folder


def test_two_builds_are_byte_identical_and_an_edit_rebuilds_as_a_clean_build_would(site, tmp_path,
                                                                                  no_repository_above):
    make(site)
    built(site)
    first = tree(site.out)
    built(site)
    assert tree(site.out) == first
    built(site, "--no-cache", "--out", str(tmp_path / "clean"))
    assert tree(tmp_path / "clean") == first

    (site.root / "data" / "pendulum.csv").write_text(PENDULUM + "3,-0.28\n")
    built(site)
    assert record(site)["data"][1]["sha256"] == sha256(site.root / "data" / "pendulum.csv")
    built(site, "--no-cache", "--out", str(tmp_path / "clean-again"))
    assert tree(site.out) == tree(tmp_path / "clean-again") != first


# --- The page -------------------------------------------------------------------


def test_each_post_ends_with_its_provenance_and_links_its_record_and_kernels(site, no_repository_above):
    make(site)
    built(site)
    html = page(site, "p")
    block = re.search(r'<details class="provenance" id="provenance">.*?</details>', html, re.S).group(0)
    assert html.index(block) > html.index('<footer class="post-footer">')
    assert re.search(r"<summary>.*Provenance.*</summary>", block, re.S)
    found = record(site)
    assert found["source"]["sha256"][:10] in block
    assert found["data"][1]["sha256"][:10] in block and "data/pendulum.csv" in block
    assert "run block, line 9" in block and "figure block, line 14" in block
    assert f"numpy {found['versions']['numpy']}" in block
    assert "not in a git repository" in block
    assert 'href="/p/provenance.json"' in block
    kernel = re.search(r'<a class="provenance-path" href="/(assets/python-[0-9a-f]+/widgets/dial\.py)">widgets/dial\.py</a>',
                       block)
    assert kernel, block
    assert (site.out / kernel.group(1)).read_bytes() == (site.root / "widgets" / "dial.py").read_bytes()
    assert "uncommitted" not in page(site).lower()


# --- git --------------------------------------------------------------------------


def test_a_committed_site_records_its_commit_and_an_edit_marks_the_post_uncommitted(site):
    make(site)
    commit = committed(site)
    built(site)
    found = record(site)["git"]
    assert found == {"commit": commit, "clean": True, "work_tree_clean": True, "changed": []}
    assert "Uncommitted changes" not in page(site)
    assert commit[:12] in page(site, "p")

    (site.root / "data" / "pendulum.csv").write_text(PENDULUM + "3,-0.28\n")
    (site.root / "data" / "extra.csv").write_text("t\n")
    (site.root / "scratch.txt").write_text("not the post's\n")
    built(site)
    found = record(site)["git"]
    assert found["commit"] == commit and found["clean"] is False and found["work_tree_clean"] is False
    assert found["changed"] == [{"path": "data", "state": "modified"},  # a new name in the folder it lists
                                {"path": "data/pendulum.csv", "state": "modified"}]
    assert record(site, "notes")["git"]["clean"] is True  # only the post whose own files changed
    for listing in ("", "tags/swing/"):
        rows = re.findall(r'<li class="post-row">.*?</li>', page(site, listing), re.S)
        marked = [row for row in rows if "Uncommitted changes" in row]
        assert len(marked) == 1 and 'href="/p/"' in marked[0], listing
    assert "Uncommitted changes" in page(site, "p") and "data/pendulum.csv" in page(site, "p")


def test_committing_changes_the_kept_page_as_a_clean_build_would(site, tmp_path):
    make(site)
    committed(site)
    site.post("new.md", PLAIN.replace("Notes", "New"))  # not committed yet
    built(site)
    assert record(site, "new")["git"]["changed"] == [{"path": "content/new.md", "state": "untracked"}]
    assert "Uncommitted changes" in page(site, "new")
    git(site, "add", ".")
    git(site, "commit", "-q", "-m", "new post")
    built(site)
    assert record(site, "new")["git"]["clean"] is True
    assert "Uncommitted changes" not in page(site, "new") and "Uncommitted changes" not in page(site)
    assert record(site, "new")["git"]["commit"] == git(site, "rev-parse", "HEAD").strip()
    built(site, "--no-cache", "--out", str(tmp_path / "clean"))
    assert tree(site.out) == tree(tmp_path / "clean")


def test_no_repository_no_git_and_a_hanging_git_record_null(site, tmp_path, monkeypatch, no_repository_above):
    make(site)
    built(site)
    assert record(site)["git"] is None
    assert provenance_git.git_state(site.root) is None

    monkeypatch.setenv("PATH", str(tmp_path / "nowhere"))  # no git at all
    assert provenance_git.git_state(site.root) is None

    slow = tmp_path / "slow-bin"
    slow.mkdir()
    (slow / "git").write_text("#!/bin/sh\nexec /bin/sleep 30\n")
    (slow / "git").chmod(0o755)
    monkeypatch.setenv("PATH", str(slow))
    monkeypatch.setattr(provenance_git, "GIT_SECONDS", 0.5)
    started = time.monotonic()
    assert provenance_git.git_state(site.root) is None
    assert time.monotonic() - started < 5


def test_the_status_of_a_work_tree_is_read_from_porcelain_v2():
    top = Path("/repo")
    output = b"\0".join([
        b"1 .M N... 100644 100644 100644 aaaa bbbb site/content/p.md",
        b"1 A. N... 000000 100644 100644 0000 cccc site/data/new.csv",
        b"2 R. N... 100644 100644 100644 dddd dddd R100 site/data/b.csv", b"site/data/a.csv",
        b"? site/data/fresh/",
        b"! site/build/",
        b"? site/.labpress-cache/",
        b"",
    ])
    state = provenance_git._parse_status(output, top, "f" * 40, (top / "site" / ".labpress-cache",))
    assert state.clean is False
    assert state.state_of(top / "site/content/p.md") == "modified"
    assert state.state_of(top / "site/data/new.csv") == "untracked"
    assert state.state_of(top / "site/data/a.csv") == "modified"
    assert state.state_of(top / "site/data/fresh/x.csv") == "untracked"
    assert state.state_of(top / "site/data/kept.csv") is None
    assert state.state_of_folder(top / "site/data") == "modified"
    assert state.state_of_folder(top / "site/content") is None
    only_ignored = provenance_git._parse_status(b"! site/build/\0? site/.labpress-cache/\0", top, "f" * 40,
                                                (top / "site" / ".labpress-cache",))
    assert only_ignored.clean is True


# --- labpress check --provenance -------------------------------------------------


def test_check_provenance_names_each_page_and_file_that_changed(site, no_repository_above):
    make(site)
    built(site)
    code, out, err = check(str(site.root), "--provenance", str(site.out))
    assert code == 0, err
    assert out.startswith("Provenance holds: ") and len(out.strip().splitlines()) == 1

    (site.root / "data" / "pendulum.csv").write_text(PENDULUM + "3,-0.28\n")
    (site.root / "widgets" / "dial.py").unlink()
    code, out, err = check(str(site.root), "--provenance", str(site.out))
    assert code == 1
    lines = err.strip().splitlines()
    assert "p/: data/pendulum.csv: changed since the build" in lines
    assert "p/: widgets/dial.py: missing (the build read it)" in lines
    assert not any(line.startswith("notes/") for line in lines)
    assert lines[-1].startswith("provenance check failed: 2 files")


def test_check_provenance_of_a_folder_without_records_is_an_error(site, tmp_path, no_repository_above):
    make(site)
    (tmp_path / "empty").mkdir()
    code, out, err = check(str(site.root), "--provenance", str(tmp_path / "empty"))
    assert code == 1 and out == ""
    assert "no provenance records" in err
    code, _, err = check(str(site.root), "--provenance", str(tmp_path / "missing"))
    assert code == 1 and "is not a folder" in err
    built(site)
    code, _, err = check(str(tmp_path / "empty"), "--provenance", str(site.out))  # not a site
    assert code == 2 and "labpress.toml" in err
