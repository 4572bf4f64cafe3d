"""Figure blocks and what they depend on: the data files they read, their time limit, and the cache
of drawn figures, which is checked when read. An incremental build always equals a clean one."""

import hashlib
import json
import os
import re
import threading
from pathlib import Path

import pytest

from conftest import run_labpress
from labpress.site.pipeline import build_site

HEAD = "---\ntitle: Pendulum\ndate: 2026-02-02\n---\n\n"  # a fence on the next line is line 6

PENDULUM = "t,theta\n0,0.30\n1,0.12\n2,-0.21\n3,-0.28\n4,0.05\n"
LOADTXT = """\
data = np.loadtxt("data/pendulum.csv", delimiter=",", skiprows=1)
plt.plot(data[:, 0], data[:, 1])
"""


def fence(code: str, info: str = 'alt="Angle against time"') -> str:
    return f"```python {{figure}} {info}\n{code}```\n"


def files(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def figure_svgs(html: str) -> list[str]:
    return re.findall(r"<svg\b.*?</svg>", html, re.S)


def page(site) -> str:
    return (site.out / "p" / "index.html").read_text()


def same_as_clean_build(site, tmp_path, name: str = "clean") -> None:
    clean = tmp_path / name
    result = site.build("--no-cache", "--out", str(clean))
    assert result.returncode == 0, result.stderr
    assert files(site.out) == files(clean)


def make(site, code: str = LOADTXT, data: str = PENDULUM, prose: str = "Swings.\n\n") -> None:
    (site.root / "data").mkdir(exist_ok=True)
    (site.root / "data" / "pendulum.csv").write_text(data)
    site.post("p.md", HEAD + prose + fence(code))


def entries(site) -> list[Path]:
    return sorted((site.root / ".labpress-cache" / "compute").glob("*.run"))


def inputs_of(entry: Path) -> list:
    return json.loads(entry.read_bytes().split(b"\n", 2)[1])["inputs"]


# --- Data files ----------------------------------------------------------------

READERS = {
    "open": 'rows = [line.split(",") for line in open("data/pendulum.csv").read().split()[1:]]\n'
            "plt.plot([float(r[0]) for r in rows], [float(r[1]) for r in rows])\n",
    "loadtxt": LOADTXT,
    "genfromtxt": 'data = np.genfromtxt("data/pendulum.csv", delimiter=",", names=True)\n'
                  'plt.plot(data["t"], data["theta"])\n',
    "pathlib": "from pathlib import Path\n"
               'text = Path("data/pendulum.csv").read_text()\n'
               'plt.plot([float(v.split(",")[1]) for v in text.split()[1:]])\n',
    "os.open": 'import os\nfd = os.open("data/pendulum.csv", os.O_RDONLY)\n'
               "raw = os.read(fd, 1 << 16).decode()\nos.close(fd)\n"
               'plt.plot([float(v.split(",")[1]) for v in raw.split()[1:]])\n',
    "pandas": 'import pandas\nframe = pandas.read_csv("data/pendulum.csv")\n'
              'plt.plot(frame["t"], frame["theta"])\n',
}


@pytest.mark.parametrize("reader", sorted(READERS))
def test_editing_a_data_file_redraws_the_figure(site, tmp_path, reader):
    if reader == "pandas":
        pytest.importorskip("pandas")
    make(site, READERS[reader])
    first = build_site(site.root)
    assert first.rendered_posts == ["content/p.md"]
    before = figure_svgs(page(site))
    [entry] = entries(site)
    assert inputs_of(entry) == [["file", "data/pendulum.csv",
                                 hashlib.sha256(PENDULUM.encode()).hexdigest()]]
    assert build_site(site.root).rendered_posts == []  # nothing changed: nothing rendered

    (site.root / "data" / "pendulum.csv").write_text(PENDULUM.replace("0.30", "0.90"))
    again = build_site(site.root)
    assert again.rendered_posts == ["content/p.md"]  # the rendered-post cache knows the figure's inputs
    assert figure_svgs(page(site)) != before
    same_as_clean_build(site, tmp_path)


def test_image_read_by_matplotlib_is_an_input(site, tmp_path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    (site.root / "data").mkdir()
    picture = site.root / "data" / "photo.png"

    def save(values):
        plt.imsave(picture, [values, values[::-1]])

    save([0.0, 0.5, 1.0])
    site.post("p.md", HEAD + fence('image = plt.imread("data/photo.png")\nplt.imshow(image)\n'))
    assert site.build().returncode == 0
    before = figure_svgs(page(site))
    save([1.0, 0.2, 0.0])
    assert site.build().returncode == 0
    assert figure_svgs(page(site)) != before
    same_as_clean_build(site, tmp_path)


def test_a_listed_folder_is_an_input(site, tmp_path):
    code = ('import glob\nfor name in sorted(glob.glob("data/runs/*.csv")):\n'
            '    data = np.loadtxt(name, delimiter=",", skiprows=1)\n    plt.plot(data[:, 0], data[:, 1])\n')
    runs = site.root / "data" / "runs"
    runs.mkdir(parents=True)
    (runs / "a.csv").write_text(PENDULUM)
    site.post("p.md", HEAD + fence(code))
    build_site(site.root)
    before = page(site)
    (runs / "b.csv").write_text(PENDULUM.replace("0.30", "0.50"))  # a new run: no file it read changed
    assert build_site(site.root).rendered_posts == ["content/p.md"]
    assert page(site).count("<path ") > before.count("<path ")
    same_as_clean_build(site, tmp_path, "clean-added")
    (runs / "a.csv").unlink()
    build_site(site.root)
    same_as_clean_build(site, tmp_path, "clean-removed")


def test_a_file_that_vanishes_or_appears(site, tmp_path):
    code = ('import os\ntry:\n    data = np.loadtxt("data/pendulum.csv", delimiter=",", skiprows=1)\n'
            "except FileNotFoundError:\n    data = np.zeros((2, 2))\nplt.plot(data[:, 0], data[:, 1])\n")
    site.post("p.md", HEAD + fence(code))
    assert site.build().returncode == 0
    empty = figure_svgs(page(site))
    make(site, code)  # the file it looked for appears
    assert site.build().returncode == 0
    assert figure_svgs(page(site)) != empty
    same_as_clean_build(site, tmp_path, "clean-appeared")
    (site.root / "data" / "pendulum.csv").unlink()
    assert site.build().returncode == 0
    assert figure_svgs(page(site)) == empty
    same_as_clean_build(site, tmp_path, "clean-vanished")

    # Without the fallback, a vanished file is the author's error, not a stale figure.
    make(site, LOADTXT)
    assert site.build().returncode == 0
    (site.root / "data" / "pendulum.csv").unlink()
    result = site.build()
    assert result.returncode == 1
    assert result.errors == ["content/p.md:9:8: error: figure code raised FileNotFoundError: "
                             "data/pendulum.csv not found."]


def test_what_is_not_an_input(site, tmp_path):
    outside = tmp_path / "outside.txt"
    outside.write_text("1 2 3")
    code = (f"values = np.loadtxt({str(outside)!r})\n"
            'open("data/written.txt", "w").write("an output, not an input")\n'
            "import json, email.mime.text\n"  # the standard library
            'np.loadtxt("data/pendulum.csv", delimiter=",", skiprows=1)\n'
            "plt.plot(values)\n")
    make(site, code)
    assert site.build().returncode == 0
    [entry] = entries(site)
    assert [path for _, path, _ in inputs_of(entry)] == ["data/pendulum.csv"]
    outside.write_text("3 2 1")  # outside the site folder: not tracked, the cached figure stays
    site.post("p.md", HEAD + "Other prose.\n\n" + fence(code))
    assert site.build().returncode == 0
    assert entries(site) == [entry] and os.path.getmtime(entry) <= os.path.getmtime(site.out / "p" / "index.html")


def test_building_from_another_folder(site, tmp_path):
    make(site)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "data").mkdir()
    (elsewhere / "data" / "pendulum.csv").write_text("t,theta\n0,9\n1,9\n")  # must not be the one read
    result = run_labpress("build", str(site.root), "--no-cache", cwd=elsewhere)
    assert result.returncode == 0, result.stderr
    (elsewhere / "data" / "pendulum.csv").unlink()
    result = run_labpress("build", str(site.root), "--out", str(tmp_path / "second"), cwd=elsewhere)
    assert result.returncode == 0, result.stderr
    assert files(site.out) == files(tmp_path / "second")
    cwd = os.getcwd()
    assert site.build().returncode == 0 and os.getcwd() == cwd  # the folder is given back


def test_worker_processes_record_what_figures_read(site, tmp_path):
    make(site)
    for n in range(3):
        site.post(f"q{n}.md", f"---\ntitle: Q{n}\ndate: 2026-01-0{n + 1}\n---\n\nWords {n}.\n")
    build_site(site.root, jobs=2)
    (site.root / "data" / "pendulum.csv").write_text(PENDULUM.replace("0.12", "0.42"))
    assert build_site(site.root, jobs=2).rendered_posts == ["content/p.md"]
    same_as_clean_build(site, tmp_path)


def test_recording_is_per_thread(tmp_path):
    from labpress.cache import reads as figures

    target = tmp_path / "read.txt"
    target.write_text("x")
    reads = figures.Reads()
    seen_elsewhere = []

    def elsewhere():
        seen_elsewhere.append(target.read_text())

    with figures.recording(reads):
        thread = threading.Thread(target=elsewhere)
        thread.start()
        thread.join()
    assert seen_elsewhere == ["x"] and not reads.files  # another thread (the dev server's) is not recorded
    with figures.recording(reads):
        target.read_text()
    assert reads.files == {str(target)}
    target.read_text()  # after the block: not recorded
    assert figures._recordings == 0


# --- The time limit and the ways code can try to end the build ----------------

LIMITED = 'title = "Test Notebook"\nbase_url = "https://notes.example/"\n\n[limits]\nseconds_per_block = 1\n'


@pytest.mark.parametrize("code", [
    "while True:\n    pass\n",
    "import time\ntime.sleep(60)\n",
    "try:\n    while True:\n        pass\nexcept BaseException:\n    pass\nwhile True:\n    pass\n",  # one is caught
])
def test_a_block_that_never_ends_is_stopped(site, code):
    site.config(LIMITED)
    cwd = os.getcwd()
    site.post("p.md", HEAD + fence(code) + "\n" + fence("plt.plot([1, 2])\n", 'alt="fine"'))
    result = site.build()
    assert result.returncode == 1, result.stderr
    assert result.errors == ["content/p.md:6:11: error: figure block ran for more than 1 s "
                             "(the limit is [limits] seconds_per_block in labpress.toml)"]
    assert os.getcwd() == cwd


@pytest.mark.parametrize("code, message", [
    ("import sys\nsys.exit()\n", "8:1: error: figure code raised SystemExit"),
    ("import sys\nsys.exit(0)\n", "8:1: error: figure code raised SystemExit: 0"),
    ("import sys\nsys.exit(3)\n", "8:1: error: figure code raised SystemExit: 3"),
    ("raise SystemExit('bye')\n", "7:1: error: figure code raised SystemExit: bye"),
    ("raise KeyboardInterrupt\n", "7:1: error: figure code raised KeyboardInterrupt"),
    ("class Stop(BaseException):\n    pass\nraise Stop('now')\n", "9:1: error: figure code raised Stop: now"),
    ("plt.plot([1, 2])\nraise GeneratorExit\n", "8:1: error: figure code raised GeneratorExit"),
])
def test_code_cannot_end_the_build(site, code, message):
    result, _ = site.build_post(HEAD + fence(code))
    assert result.returncode == 1, result.stderr
    assert result.errors == ["content/p.md:" + message]


def test_exit_from_a_real_process_is_a_content_error(site):
    site.post("p.md", HEAD + fence("import sys\nsys.exit(0)\n"))
    result = run_labpress("build", str(site.root))
    assert result.returncode == 1, result.stderr
    assert "content/p.md:8:1: error: figure code raised SystemExit: 0" in result.stderr


def test_a_real_interrupt_during_a_figure_block_still_stops_the_build(site):
    site.post("p.md", HEAD + fence("import signal\nsignal.raise_signal(signal.SIGINT)\nplt.plot([1, 2])\n"))
    result = site.build()
    assert result.returncode == 130, result.stderr
    assert not (site.out / "p").exists()


# --- The cache of drawn figures ----------------------------------------------

TWO = fence(LOADTXT) + "\n" + fence("plt.bar([1, 2, 3], [3, 1, 2])\n", 'alt="Three bars"')


@pytest.mark.parametrize("where", ["magic", "digest", "header", "svg", "last", "truncated", "garbage", "empty"])
def test_a_damaged_cache_entry_is_drawn_again(site, tmp_path, where):
    make(site)
    site.post("p.md", HEAD + "Before.\n\n" + TWO)
    assert site.build().returncode == 0
    damaged = entries(site)
    assert len(damaged) == 1  # one entry per post's code
    for entry in damaged:
        data = bytearray(entry.read_bytes())
        lines = data.split(b"\n", 3)
        at = {"magic": 2, "digest": len(lines[0]) + 10, "header": len(lines[0]) + len(lines[1]) + 5,
              "svg": len(data) // 2, "last": len(data) - 2}.get(where)
        if at is not None:
            data[at] ^= 0x01
        elif where == "truncated":
            data = data[: len(data) // 2]
        elif where == "garbage":
            data = b"<svg>not a figure</svg>"
        else:
            data = b""
        entry.write_bytes(bytes(data))
    site.post("p.md", HEAD + "After.\n\n" + TWO)  # the post renders again and reads the damaged entries
    result = site.build()
    assert result.returncode == 0, result.stderr
    same_as_clean_build(site, tmp_path)
    from labpress.compute.cache import decode_entry
    for entry in entries(site):  # drawn again and stored whole
        assert decode_entry(entry.read_bytes(), entry.stem) is not None


def test_an_entry_stored_under_another_key_is_not_used(site, tmp_path):
    site.post("p.md", HEAD + fence("plt.plot([1, 2])\n", 'alt="one"'))
    site.post("q.md", HEAD.replace("title:", "title: Q") + fence("plt.plot([2, 1])\n", 'alt="two"'))
    assert site.build().returncode == 0
    one, two = entries(site)
    one.write_bytes(two.read_bytes())  # sound in itself, but for another post's code
    two.write_bytes(one.read_bytes())
    site.post("p.md", HEAD + "Words.\n\n" + fence("plt.plot([1, 2])\n", 'alt="one"'))
    site.post("q.md", HEAD.replace("title:", "title: Q") + "Words.\n\n" + fence("plt.plot([2, 1])\n", 'alt="two"'))
    assert site.build().returncode == 0
    same_as_clean_build(site, tmp_path)


def test_figures_cache_folder_being_a_file(site, tmp_path):
    make(site)
    cache = site.root / ".labpress-cache"
    cache.mkdir()
    (cache / "compute").write_text("not a folder")
    result = site.build()
    assert result.returncode == 0, result.stderr
    same_as_clean_build(site, tmp_path)
    assert (cache / "compute").is_dir() and len(entries(site)) == 1  # the cache works again


def test_no_temporary_files_are_left(site):
    make(site)
    site.post("p.md", HEAD + TWO)
    site.post("q.md", HEAD.replace("title:", "title: Q") + fence("plt.plot([2, 1])\n", 'alt="two"'))
    assert site.build().returncode == 0
    names = [p.name for p in (site.root / ".labpress-cache" / "compute").iterdir()]
    assert len(names) == 2 and all(re.fullmatch(r"[0-9a-f]{64}\.run", n) for n in names)
