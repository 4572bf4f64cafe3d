"""The post ``labpress new`` writes: its identity filled in (the next experiment number, the next
step of its series, today's date, status draft) and the blocks of an experiment left to write.

The front matter of the posts already there is read as the build reads it, so a hostile post
elsewhere in content/ cannot hang or crash it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from labpress.config.schema import _SERIES_KEY, CONFIG_NAME, load_config
from labpress.content.frontmatter import front_matter_values
from labpress.content.posts import CONTENT_DIR, GENERATED, STATIC_DIR, discover_posts, static_clash
from labpress.content.slugs import slugify
from labpress.errors import ConfigError

TEMPLATE = """\
---
{front_matter}---

::: hypothesis
State the claim you expect to test, in one or two sentences.
:::

## Method

What you did, with enough detail to do it again.

::: conclusion
What the evidence says about the hypothesis. Set `verdict` in the front matter once you know.
:::

## What next
"""


def existing_front_matter(site_dir: Path) -> list[dict]:
    """Front matter of the posts already there, read as the build reads it (content/frontmatter.py: bounded in
    size, aliases and depth, no control characters); unreadable ones are skipped (the build reports them)."""
    found = []
    for path in discover_posts(site_dir):
        try:
            text = path.read_bytes().decode("utf-8", errors="replace")
        except OSError:  # gone or unreadable since it was found
            continue
        values = front_matter_values(text)
        if values is not None:
            found.append(values)
    return found


# Numbers past this are not counted (the next one could not be written as YAML: Python turns at most
# 4,300 digits into text); an author's exp or step is a handful of digits.
LARGEST_NUMBER = 10**18


def _whole(value) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < LARGEST_NUMBER:
        return value
    return None


def unknown_series(key: str, known) -> str:
    """The error for ``--series KEY`` when labpress.toml has no such series: the lines that define it."""
    from labpress.errors import did_you_mean, shorten

    shown = shorten(key, 40)
    listed = ", ".join(known) or f"none are defined in {CONFIG_NAME}"
    message = f"error: unknown series '{shown}'{did_you_mean(shown, known)}; known series: {listed}"
    if not _SERIES_KEY.match(key) or key.endswith("\n"):
        example = slugify(key) if _SERIES_KEY.match(slugify(key)) else "warm-up"
        return message + f"\n(a series key is lower-case letters, digits and dashes, such as '{example}')"
    title = key.replace("-", " ").strip().capitalize() or key
    return (f"{message}\nTo start the series '{key}', add these lines to {CONFIG_NAME} (the title is yours to"
            f" choose) and run the command again:\n\n[series.{key}]\ntitle = \"{title}\"")


def new_post(site_dir: Path, title: str, series: str | None, day: dt.date) -> Path:
    import yaml
    config = load_config(site_dir)
    if not title.strip():
        raise ConfigError("error: the title must not be empty")
    try:
        title.encode("utf-8")
    except UnicodeEncodeError:  # bytes from the command line that are not UTF-8 (kept as surrogates)
        raise ConfigError("error: the title is not UTF-8 text") from None
    slug = slugify(title)
    clash = GENERATED.get(slug) or static_clash(site_dir / STATIC_DIR, slug)
    if clash:  # the build would refuse the post (content/posts.py)
        raise ConfigError(f"error: the page /{slug}/ would clash with {clash}: choose another title")
    if series is not None and series not in config.series:
        raise ConfigError(unknown_series(series, config.series))
    posts = existing_front_matter(site_dir)
    exps = [n for n in (_whole(p.get("exp")) for p in posts) if n is not None]
    fields: dict = {"title": title.strip(), "date": day, "exp": max(exps, default=0) + 1}
    if series:
        steps = [n for n in (_whole(p.get("step")) for p in posts if p.get("series") == series) if n is not None]
        fields.update(series=series, step=max(steps, default=0) + 1)
    fields.update(status="draft", verdict="inconclusive", summary="", tags=[])
    path = site_dir / CONTENT_DIR / f"{slug}.md"
    if path.exists():
        raise FileExistsError(path)
    text = TEMPLATE.format(front_matter=yaml.safe_dump(fields, sort_keys=False, allow_unicode=True, width=1000))
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "x", encoding="utf-8") as handle:  # "x": never overwrite, even in a race
        handle.write(text)
    return path
