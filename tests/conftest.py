"""Shared fixtures: small sites made on the fly, the fixture notebook (tests/sites/notebook/) built
and served, the built demo site (for the one test that the demo itself builds), a browser."""

from __future__ import annotations

import contextlib
import io
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

from dataclasses import dataclass

import pytest

from labpress.cli import main
from support import CHROMIUM_ARGS, StaticServer, chromium_executable  # noqa: F401 (fixtures and tests use them)

REPO = Path(__file__).resolve().parent.parent


MINIMAL_CONFIG = """\
title = "Test Notebook"
base_url = "https://notes.example/"

[series.basics]
title = "Basics"
"""


class SiteMaker:
    """A throw-away site directory using the repository's default theme."""

    def __init__(self, root: Path):
        self.root = root
        (root / "content").mkdir(parents=True)
        shutil.copytree(REPO / "themes", root / "themes")
        self.config(MINIMAL_CONFIG)

    def config(self, text: str) -> None:
        (self.root / "labpress.toml").write_text(textwrap.dedent(text), encoding="utf-8")

    def widget(self, name: str, source: str) -> Path:
        """``widgets/NAME.py`` with ``source`` (dedented)."""
        path = self.root / "widgets" / f"{name}.py"
        path.parent.mkdir(exist_ok=True)
        path.write_text(textwrap.dedent(source), encoding="utf-8")
        return path

    def post(self, name: str, text: str) -> Path:
        path = self.root / "content" / name
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    def build(self, *args: str) -> "Outcome":
        """Run ``labpress build`` in this process (fast); see run_labpress for a real process."""
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(["build", str(self.root), *args])
            except SystemExit as exc:  # argparse usage errors
                code = exc.code
        return Outcome(code, out.getvalue(), err.getvalue())

    def build_post(self, text: str, *args: str) -> tuple["Outcome", str]:
        """Write ``content/p.md``, build, and return the outcome with the post's HTML ("" if it failed)."""
        self.post("p.md", text)
        result = self.build(*args)
        html = (self.out / "p" / "index.html").read_text() if result.returncode == 0 else ""
        return result, html

    @property
    def out(self) -> Path:
        return self.root / "build"


@dataclass
class Outcome:
    returncode: int
    stdout: str
    stderr: str

    @property
    def errors(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if ": error: " in line]


def run_labpress(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "labpress", *args], capture_output=True, text=True, cwd=cwd)


@pytest.fixture
def site(tmp_path) -> SiteMaker:
    return SiteMaker(tmp_path / "site")


# The site the behaviour tests run against: written for the tests, so editing the demo's posts
# (content/, widgets/ at the repository root) never breaks them. It has no themes/ folder: the
# build finds the repository's default theme, as it does for any site (theme.lookup.find_theme).
NOTEBOOK = REPO / "tests" / "sites" / "notebook"
SUBPATH_URL = "https://someone.github.io/my-notebook/"


def build_notebook(tmp_path_factory, name: str, *args: str) -> Path:
    """A copy of the fixture notebook built in a fresh folder; the build folder.

    The copy keeps tests/ clean: a build writes its .labpress-cache into the site, and figure
    blocks run in the site folder."""
    root = tmp_path_factory.mktemp(name)
    shutil.copytree(NOTEBOOK, root / "site", ignore=shutil.ignore_patterns("__pycache__", ".labpress-cache", "build"))
    out = root / "build"
    result = run_labpress("build", str(root / "site"), "--out", str(out), *args)
    assert result.returncode == 0, result.stderr
    assert result.stderr == "", result.stderr  # no warnings: the fixture site is meant to be clean
    return out


@pytest.fixture(scope="session")
def notebook_build(tmp_path_factory) -> Path:
    """The fixture notebook, built once per test session (root base path)."""
    return build_notebook(tmp_path_factory, "notebook")


@pytest.fixture(scope="session")
def notebook_build_subpath(tmp_path_factory) -> Path:
    """The fixture notebook built for a GitHub project page under /my-notebook/."""
    return build_notebook(tmp_path_factory, "notebook-sub", "--base-url", SUBPATH_URL)


@pytest.fixture(scope="session")
def notebook_server(notebook_build):
    server = StaticServer(notebook_build)
    yield server
    server.close()


# The repository's own demo site: tests/test_site.py's checks that the demo builds, that its links
# resolve and that its pages are valid HTML, and the reader checks of its real posts (accessibility,
# print, phone) use these.
@pytest.fixture(scope="session")
def demo_build(tmp_path_factory) -> Path:
    """The repository's demo site, built once per test session (root base path)."""
    out = tmp_path_factory.mktemp("demo") / "build"
    result = run_labpress("build", str(REPO), "--out", str(out))
    assert result.returncode == 0, result.stderr
    return out


@pytest.fixture(scope="session")
def demo_build_subpath(tmp_path_factory) -> Path:
    """The demo site built for a GitHub project page under /my-notebook/."""
    out = tmp_path_factory.mktemp("demo-sub") / "build"
    result = run_labpress("build", str(REPO), "--out", str(out), "--base-url", SUBPATH_URL)
    assert result.returncode == 0, result.stderr
    return out


@pytest.fixture(scope="session")
def demo_server(demo_build):
    server = StaticServer(demo_build)
    yield server
    server.close()


@pytest.fixture(scope="session")
def browser():
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as p:
        executable = chromium_executable()
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
