"""Compiled templates kept between builds, each file checked against its digest when read.

Jinja2 compiles a template to Python bytecode; keeping it saves the compile on
the next build. A kept file that is truncated or altered is not loaded (Jinja2
would run whatever it unmarshals): the template is compiled again and the file
rewritten, atomically.
"""

from __future__ import annotations

from pathlib import Path


def checked_bytecode_cache(folder: Path):
    """A ``jinja2.BytecodeCache`` storing one file per template in ``folder``."""
    import jinja2

    from labpress.cache.store import seal, unseal, write_atomically

    class CheckedBytecodeCache(jinja2.BytecodeCache):
        def _file(self, bucket) -> Path:
            return folder / f"{bucket.key}.cache"

        def load_bytecode(self, bucket) -> None:
            try:
                raw = self._file(bucket).read_bytes()
            except OSError:
                return
            payload = unseal("template", raw)
            if payload is not None:
                bucket.bytecode_from_string(payload)

        def dump_bytecode(self, bucket) -> None:
            payload = bucket.bytecode_to_string()
            try:
                folder.mkdir(parents=True, exist_ok=True)
                write_atomically(self._file(bucket), seal("template", payload))
            except OSError:
                pass  # not kept: the next build compiles it again

    return CheckedBytecodeCache()
