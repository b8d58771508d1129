"""Where a server process spends its CPU while a benchmark drives it: py-spy samples the
process (no change to it, no slowdown worth measuring at 250 Hz) and this module folds the
sampled stacks into two short tables printed beside the figures:

* by layer: the share of samples whose stack passes through each library or project package
  (inclusive, so the shares add up to more than 100 %);
* by function: the functions that were on top of the stack most often (self time).

A sample is taken whenever the process is runnable, not only while it runs: on a machine
with more runnable processes than cores, a process preempted after waking its peer waits
for a core with that system call on its stack. Under ``bench/reservations.py`` py-spy put
15-40 % of a gateway's samples in socket writes (``Connection._do_execute``, uvicorn's
``send``) while /proc gave the process 7 % system time; coalescing a response's two writes
into one changed neither its CPU nor the throughput. Read the I/O frames as waiting.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

# A frame of py-spy's raw (collapsed) output: "function (path/to/file.py:line)".
FRAME = re.compile(r"^(?P<function>.*?) \((?P<file>[^()]*?)(?::\d+)?\)$")
# The first match of a frame's file names its layer.
LAYERS = [
    ("strawberry", "/strawberry/"),
    ("graphql-core", "/graphql/"),
    ("sqlalchemy", "/sqlalchemy/"),
    ("aiosqlite / sqlite3", "/aiosqlite/"),
    ("asyncpg", "/asyncpg/"),
    ("pydantic", "/pydantic"),
    ("starlette", "/starlette/"),
    ("uvicorn / httptools", "/uvicorn/"),
    ("json / orjson", "/json/"),
    ("structlog / logging", "/structlog/"),
    ("opentelemetry", "/opentelemetry/"),
    ("asyncio", "/asyncio/"),
    ("gateway", "/gateway/"),
    ("resolvers", "/resolvers/"),
    ("adapters", "/adapters/"),
]


@dataclass
class Profile:
    samples: int = 0
    layers: Counter[str] = field(default_factory=Counter)
    functions: Counter[str] = field(default_factory=Counter)

    def lines(self, top: int = 12) -> list[str]:
        if not self.samples:
            return ["   (no samples: is py-spy allowed to read the process?)"]
        out = [f"   {self.samples} samples; by layer (inclusive):"]
        for name, count in self.layers.most_common():
            out.append(f"     {count * 100 / self.samples:5.1f} %  {name}")
        out.append("   by function (self):")
        for name, count in self.functions.most_common(top):
            out.append(f"     {count * 100 / self.samples:5.1f} %  {name}")
        return out


def fold(raw: str) -> Profile:
    """The profile of py-spy's raw output: one line per distinct stack, root first, frames
    joined by ';', then a space and the number of samples."""
    profile = Profile()
    for line in raw.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [FRAME.match(frame) for frame in stack.split(";")]
        # py-spy names a file relative to its sys.path entry ("strawberry/schema/...").
        files = ["/" + m["file"] for m in frames if m is not None]
        profile.samples += count
        for name in {layer for f in files for layer, marker in LAYERS if marker in f}:
            profile.layers[name] += count
        top = frames[-1]
        if top is not None:
            profile.functions[f"{top['function']} ({Path(top['file']).name})"] += count
    return profile


@contextmanager
def sampled(pid: int, out: Path, *, rate: int = 250) -> Iterator[Profile]:
    """Sample ``pid`` while the block runs; the yielded profile is filled when it ends
    (left empty when py-spy is not installed)."""
    profile = Profile()
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(spy).exists():
        yield profile
        return
    proc = subprocess.Popen(
        [
            spy,
            "record",
            "--pid",
            str(pid),
            "--rate",
            str(rate),
            "--format",
            "raw",
            "--output",
            str(out),
            "--nonblocking",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield profile
    finally:
        proc.send_signal(2)  # py-spy writes what it sampled on SIGINT
        proc.wait(timeout=30)
    if out.exists():
        folded = fold(out.read_text())
        profile.samples, profile.layers, profile.functions = (
            folded.samples,
            folded.layers,
            folded.functions,
        )
