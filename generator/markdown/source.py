"""Map offsets in a post's source text to the 1-based line and column an author sees."""

from __future__ import annotations

import bisect


class SourceMap:
    def __init__(self, text: str):
        self.text = text
        self.lines = text.split("\n")
        self.starts = [0]
        for line in self.lines[:-1]:
            self.starts.append(self.starts[-1] + len(line) + 1)

    def offset(self, line0: int, col0: int = 0) -> int:
        """Offset of a 0-based line and column."""
        line0 = min(max(line0, 0), len(self.starts) - 1)
        return self.starts[line0] + col0

    def position(self, offset: int) -> tuple[int, int]:
        """1-based (line, column) of an offset."""
        offset = min(max(offset, 0), len(self.text))
        line0 = bisect.bisect_right(self.starts, offset) - 1
        return line0 + 1, offset - self.starts[line0] + 1

    def region(self, line_map) -> tuple[int, int]:
        """Offsets spanning the 0-based, end-exclusive line range of a token's ``map``."""
        start = self.offset(line_map[0])
        end_line = min(line_map[1], len(self.lines))
        end = self.starts[end_line - 1] + len(self.lines[end_line - 1]) if end_line > 0 else 0
        return start, max(start, end)
