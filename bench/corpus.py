"""A synthetic lab notebook that looks like real notes: front matter, 1,500–3,000 words,
20–60 formulas (notation repeated across posts, as real notebooks repeat it), two
tables, code blocks, and one widget per five posts. Deterministic for a given seed."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

WORDS = ("gradient loss weight update batch noise variance bias curvature step schedule optimum "
         "estimate sample error signal layer unit norm penalty decay momentum average scale "
         "measure result figure table hypothesis method evidence run seed baseline").split()
INLINE = [r"\alpha", r"\lambda w", r"\nabla_w \mathcal{L}", r"\sigma/\sqrt{n}", r"\hat m_t", r"\sqrt{\hat v_t}",
          r"\lVert W \rVert_F^2", r"\mathbb{E}[x]", r"p \in (0, 1]", r"\theta_{t+1}", r"\beta_1, \beta_2",
          r"\frac{1}{m}\sum_i x_i", r"O(n \log n)", r"e^{-\lambda t}", r"\operatorname{sign}(w)"]
DISPLAY = [r"W := \Big(1 - \frac{\alpha\lambda}{m}\Big) W - \alpha\,\partial \mathcal{L}",
           r"\hat z = \frac{z - \mu_B}{\sqrt{\sigma_B^2 + \varepsilon}}, \qquad \tilde z = \gamma\,\hat z + \beta",
           r"\theta_{t+1} = \theta_t - \alpha \frac{\hat m_t}{\sqrt{\hat v_t} + \varepsilon}",
           r"\mathbb{E}\big[(y - \hat f)^2\big] = \mathrm{Bias}^2 + \mathrm{Var} + \sigma^2",
           r"\mathcal{L}(w) = \frac{1}{m}\sum_{i=1}^m \ell(f_w(x_i), y_i) + \frac{\lambda}{2}\lVert w\rVert^2"]
# Formulas a post works out for itself (about a third of them): the same shapes with its own numbers.
UNIQUE_INLINE = [r"\theta_{{{a}}} = {b}.{c}", r"x^{{{a}}} + {b}y", r"\frac{{{a}}}{{{b}}}\,\sigma_{{{c}}}",
                 r"\lambda = 10^{{-{a}}}", r"\alpha_{{{a}}} = {b}\times 10^{{-{c}}}", r"n = {a}{b}{c}"]
UNIQUE_DISPLAY = [r"\mathcal{{L}}_{{{a}}} = \sum_{{i=1}}^{{{b}}} \big(y_i - w^\top x_i\big)^2 + {c}\,\lVert w \rVert_1",
                  r"p(k) = \binom{{{a}}}{{k}} \, {b}^k (1 - {b})^{{{a} - k}}, \quad k \le {c}"]
WIDGET = '''
from labpress.kernel import Figure, Slider, View, widget

@widget(k=Slider(0.5, 2.0, value=1.0, step=0.25, label="k"))
def bench_curve(k):
    fig = Figure(x=(0, 1), y=(0, 2), title="Curve")
    fig.axes()
    fig.polyline([(i / 20, k * (i / 20) ** 2) for i in range(21)])
    return View(fig, {"peak": k})
'''


def _unique(rng: random.Random, shapes: list[str]) -> str:
    return rng.choice(shapes).format(a=rng.randint(2, 99), b=rng.randint(1, 9), c=rng.randint(1, 9))


def _sentence(rng: random.Random, formulas: list[str]) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(10, 20))]
    if formulas:
        words.insert(rng.randrange(len(words)), f"${formulas.pop()}$")
    text = " ".join(words)
    return text[0].upper() + text[1:] + "."


def post(rng: random.Random, number: int, series: int, widget: bool) -> str:
    target_words = rng.randint(1500, 3000)
    # 20-60 formulas, about one in six displayed; two in three are the notebook's shared notation.
    count = rng.randint(20, 60)
    displays = [rng.choice(DISPLAY) if rng.random() < 0.67 else _unique(rng, UNIQUE_DISPLAY)
                for _ in range(count // 6)]
    inline = [rng.choice(INLINE) if rng.random() < 0.67 else _unique(rng, UNIQUE_INLINE)
              for _ in range(count - len(displays))]
    paragraphs, words = [], 0
    while words < target_words:
        text = " ".join(_sentence(rng, inline) for _ in range(rng.randint(3, 6)))
        words += len(text.split())
        paragraphs.append(text)
    sections = ["## Method", "## Measurements", "## Discussion", "## What next"]
    body = ["::: hypothesis", paragraphs[0], ":::", ""]
    for i, paragraph in enumerate(paragraphs[1:]):
        if i % max(1, len(paragraphs) // 4) == 0 and sections:
            body += [sections.pop(0), ""]
        body += [paragraph, ""]
        if displays and i % 3 == 1:
            body += ["$$", displays.pop(), "$$", ""]
        if i % 11 == 5:
            body += ["```python", "def step(w, g, lr=0.1):", "    return w - lr * g  # plain SGD", "```", ""]
    for t in range(2):
        body += ["| run | value | note |", "|---|---|---|"]
        body += [f"| {r} | {rng.random():.3f} | {rng.choice(WORDS)} |" for r in range(rng.randint(3, 8))] + [""]
    if widget:
        body += ["::: widget bench_curve", ":::", ""]
    body += ["::: conclusion", _sentence(rng, []), ":::", ""]
    day = 1 + number % 28
    month = 1 + (number // 28) % 12
    return (f"---\ntitle: \"Experiment {number}: {rng.choice(WORDS)} and {rng.choice(WORDS)}\"\n"
            f"date: {2020 + number // 336}-{month:02d}-{day:02d}\nexp: {number}\nseries: s{series}\n"
            f"step: {number // 10 + 1}\nstatus: complete\ntags: [{rng.choice(WORDS)}, {rng.choice(WORDS)}]\n"
            f"verdict: {rng.choice(['confirmed', 'refuted', 'mixed', 'inconclusive'])}\n---\n\n" + "\n".join(body))


def make_corpus(root: Path, posts: int, seed: int = 0) -> Path:
    """A site of ``posts`` posts at ``root`` (replaced if it exists), using the default theme."""
    if root.exists():
        shutil.rmtree(root)
    (root / "content").mkdir(parents=True)
    (root / "widgets").mkdir()
    shutil.copytree(REPO / "themes", root / "themes")
    series = "".join(f'\n[series.s{i}]\ntitle = "Series {i}"\n' for i in range(10))
    (root / "labpress.toml").write_text(f'title = "Benchmark notebook"\nbase_url = "https://bench.example/"\n{series}')
    (root / "widgets" / "bench_curve.py").write_text(WIDGET)
    rng = random.Random(seed)
    for n in range(1, posts + 1):
        (root / "content" / f"exp-{n:05d}.md").write_text(post(rng, n, n % 10, widget=n % 5 == 0))
    return root
