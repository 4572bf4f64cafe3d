"""A small SVG builder: data-to-pixel scales, axes, paths, circles, bars and text.

Output is a string with every number rounded the same way in CPython and in
Pyodide, so both runtimes draw byte-identical figures. Colours are classes
(``lp-s1`` …) that the theme styles for the light and the dark scheme.
"""

from __future__ import annotations

import math


# XML escaping, the same as xml.sax.saxutils's escape and quoteattr (that module pulls in
# urllib and ssl, a third of LabPress's start-up, for two small functions).
def escape(data: str) -> str:
    return data.replace("&", "&amp;").replace(">", "&gt;").replace("<", "&lt;")


def quoteattr(data: str) -> str:
    data = escape(data).replace("\n", "&#10;").replace("\r", "&#13;").replace("\t", "&#9;")
    if '"' not in data:
        return f'"{data}"'
    if "'" not in data:
        return f"'{data}'"
    return '"{}"'.format(data.replace('"', "&quot;"))


def fmt(value: float) -> str:
    """Two decimals at most, no trailing zeros, no negative zero."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def tick_text(value: float) -> str:
    """A tick's label: as many digits as the tick has (ticks are round numbers), no negative zero.
    ``fmt``'s two decimals would label the ticks of an axis from 0 to 0.01 all '0'."""
    text = f"{round(value, 10) + 0.0:.10g}"
    return "0" if text == "-0" else text


class LinearScale:
    def __init__(self, domain: tuple[float, float], pixels: tuple[float, float]):
        if domain[0] == domain[1]:
            raise ValueError("a scale needs a domain of non-zero width")
        self.domain = (float(domain[0]), float(domain[1]))
        self.pixels = (float(pixels[0]), float(pixels[1]))
        if not all(math.isfinite(v) for v in (*self.domain, *self.pixels, self.domain[1] - self.domain[0])):
            raise ValueError(f"a scale needs finite numbers, not the domain {self.domain}")

    def __call__(self, value: float) -> float:
        (d0, d1), (p0, p1) = self.domain, self.pixels
        return p0 + (value - d0) * (p1 - p0) / (d1 - d0)

    def invert(self, pixel: float) -> float:
        (d0, d1), (p0, p1) = self.domain, self.pixels
        return d0 + (pixel - p0) * (d1 - d0) / (p1 - p0)

    def ticks(self, count: int = 5) -> list[float]:
        lo, hi = sorted(self.domain)
        span = hi - lo
        raw = span / max(count, 1)
        magnitude = 10 ** _floor_log10(raw)
        step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
        first = -(-lo // step) * step
        out, k = [], 0
        while first + k * step <= hi + step * 1e-9:
            out.append(round(first + k * step, 10) + 0.0)
            k += 1
        return out

    def attribute(self) -> str:
        # Ten significant digits, not fmt's two decimals: the runtime inverts pixels with these numbers.
        return " ".join(f"{round(v, 10) + 0.0:.10g}" for v in (*self.domain, *self.pixels))


def _floor_log10(x: float) -> int:
    if not (0 < x < math.inf):  # zero (an underflowed span) or infinity: there is no tick step
        raise ValueError(f"no tick step for a span of {x!r}")
    n = 0
    while x >= 10:
        x, n = x / 10, n + 1
    while x < 1:
        x, n = x * 10, n - 1
    return n


class Figure:
    """An SVG drawing with x and y data scales; add shapes in data coordinates."""

    def __init__(self, width: int = 480, height: int = 320, x=(0.0, 1.0), y=(0.0, 1.0),
                 margin=(16, 16, 36, 44), title: str = "", description: str = ""):
        self.width, self.height = width, height
        top, right, bottom, left = margin
        self.x = LinearScale(x, (left, width - right))
        self.y = LinearScale(y, (height - bottom, top))
        self.title, self.description = title, description
        self._items: list[str] = []
        self._handles: set[int] = set()  # the indices in _items of the draggable handles

    # Shapes -----------------------------------------------------------------
    def _add(self, tag: str, attrs: dict, body: str | None = None) -> None:
        parts = [tag] + [f"{k}={quoteattr(str(v))}" for k, v in attrs.items() if v is not None and v != ""]
        self._items.append(f"<{' '.join(parts)}/>" if body is None else f"<{' '.join(parts)}>{body}</{tag}>")

    def _points(self, points) -> str:
        return " ".join(f"{fmt(self.x(px))},{fmt(self.y(py))}" for px, py in points)

    def line(self, x1, y1, x2, y2, cls: str = "lp-s1") -> None:
        self._add("line", {"x1": fmt(self.x(x1)), "y1": fmt(self.y(y1)), "x2": fmt(self.x(x2)), "y2": fmt(self.y(y2)), "class": cls})

    def polyline(self, points, cls: str = "lp-s1") -> None:
        self._add("polyline", {"points": self._points(points), "class": cls, "fill": "none"})

    def polygon(self, points, cls: str = "lp-s1") -> None:
        self._add("polygon", {"points": self._points(points), "class": cls})

    def circle(self, x, y, r: float = 4, cls: str = "lp-s1", label: str = "") -> None:
        self._add("circle", {"cx": fmt(self.x(x)), "cy": fmt(self.y(y)), "r": fmt(r), "class": cls},
                  f"<title>{escape(label)}</title>" if label else None)

    def ellipse(self, x, y, rx, ry, cls: str = "lp-s1") -> None:
        """An ellipse whose radii are in data units."""
        self._add("ellipse", {"cx": fmt(self.x(x)), "cy": fmt(self.y(y)),
                              "rx": fmt(abs(self.x(x + rx) - self.x(x))), "ry": fmt(abs(self.y(y + ry) - self.y(y))), "class": cls})

    def rect(self, x0, y0, x1, y1, cls: str = "lp-s1") -> None:
        px0, px1 = sorted((self.x(x0), self.x(x1)))
        py0, py1 = sorted((self.y(y0), self.y(y1)))
        self._add("rect", {"x": fmt(px0), "y": fmt(py0), "width": fmt(px1 - px0), "height": fmt(py1 - py0), "class": cls})

    def bar(self, x, value, width: float, base: float = 0.0, cls: str = "lp-s1") -> None:
        """A vertical bar centred on ``x``, ``width`` in data units, from ``base`` to ``value``."""
        self.rect(x - width / 2, base, x + width / 2, value, cls)

    def text(self, x, y, content: str, cls: str = "lp-label", anchor: str = "middle", dx: float = 0, dy: float = 0) -> None:
        self._add("text", {"x": fmt(self.x(x) + dx), "y": fmt(self.y(y) + dy), "class": cls, "text-anchor": anchor},
                  escape(str(content)))

    def axes(self, x_label: str = "", y_label: str = "", ticks: int = 5, grid: bool = False) -> None:
        (x0, x1), (y0, y1) = self.x.domain, self.y.domain
        base_y = min(max(0.0, min(y0, y1)), max(y0, y1))
        base_x = min(max(0.0, min(x0, x1)), max(x0, x1))
        if grid:
            for t in self.x.ticks(ticks):
                self.line(t, y0, t, y1, "lp-grid")
            for t in self.y.ticks(ticks):
                self.line(x0, t, x1, t, "lp-grid")
        self.line(x0, base_y, x1, base_y, "lp-axis")
        self.line(base_x, y0, base_x, y1, "lp-axis")
        for t in self.x.ticks(ticks):
            self.text(t, base_y, tick_text(t), "lp-tick", "middle", dy=14)
        for t in self.y.ticks(ticks):
            if t != base_y or base_x != x0:
                self.text(base_x, t, tick_text(t), "lp-tick", "end", dx=-6, dy=4)
        if x_label:
            self.text(x1, base_y, x_label, "lp-label", "end", dy=-6)
        if y_label:
            self.text(base_x, y1, y_label, "lp-label", "start", dx=6, dy=12)

    def handle(self, control: str, x, y, label: str) -> None:
        """The draggable marker of a Point control; the runtime makes it answer to pointer and arrow keys."""
        self._add("circle", {"cx": fmt(self.x(x)), "cy": fmt(self.y(y)), "r": "9", "class": "lp-handle",
                             "data-control": control, "aria-label": label})
        self._handles.add(len(self._items) - 1)

    # Output -----------------------------------------------------------------
    def to_svg(self) -> str:
        """The figure as an image (``role="img"``); a figure with handles is a group instead, since an image's
        content is hidden from screen readers and a handle must stay operable: its drawing, between and
        around the handles, is then hidden from them (``aria-hidden`` groups, painted in the same order)."""
        role = "group" if self._handles else "img"
        head = (f'<svg xmlns="http://www.w3.org/2000/svg" class="lp-figure" viewBox="0 0 {self.width} {self.height}"'
                f' data-scale-x="{self.x.attribute()}" data-scale-y="{self.y.attribute()}" role="{role}"')
        head += f" aria-label={quoteattr(self.title)}>" if self.title else ">"
        inner = f"<title>{escape(self.title)}</title>" if self.title else ""
        if self.description:
            inner += f"<desc>{escape(self.description)}</desc>"
        if not self._handles:
            return head + inner + "".join(self._items) + "</svg>"
        parts, drawing = [], []
        for i, item in enumerate(self._items):
            if i in self._handles:
                if drawing:
                    parts.append('<g aria-hidden="true">' + "".join(drawing) + "</g>")
                    drawing = []
                parts.append(item)
            else:
                drawing.append(item)
        if drawing:
            parts.append('<g aria-hidden="true">' + "".join(drawing) + "</g>")
        return head + inner + "".join(parts) + "</svg>"
