"""What a data file claims, checked against what it holds and the memory there is.

A header states a shape and a type; ``elements × itemsize`` bytes must then follow it. A file
can lie (a 4 kB ``.npy`` whose header says ``(100000000, 1000) float32``, 373 GiB) or simply be
too large for this machine. Every loader asks the three questions here *before* it allocates:

1. :func:`check_holds`: does the file (or archive member) hold exactly the bytes its header
   claims?
2. :func:`check_expansion`: can the compressed bytes even expand to the claim? Deflate (zip,
   gzip) cannot expand more than about 1032:1 (RFC 1951: a 258-byte match costs at least two
   bits), so a larger ratio is a lie or a decompression bomb.
3. :func:`check_fits`: does loading need more than the usable share of the memory available
   to this process (the least of ``MemAvailable``, the address-space limit and the cgroup
   limit)?

Each refusal is one :class:`UserError` line that names the file, the claim and the limit.
"""

from __future__ import annotations

import math
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from vaebalance.errors import UserError

# Loading may use at most this share of the available memory; the rest is headroom for the
# model, the optimiser and the interpreter itself.
USABLE_SHARE = 0.8
# The most a deflate stream can expand (258 bytes per 2-bit match, RFC 1951), rounded up.
DEFLATE_MAX_RATIO = 1032
# Slack for headers and tiny streams, whose ratio is dominated by fixed overhead.
EXPANSION_SLACK = 1024
UINT8_ADVICE = "store the examples as uint8 (a quarter of float32) or load a subset of them"
SUBSET_ADVICE = "load a subset of the examples"


@dataclass(frozen=True)
class Memory:
    """Bytes this process can still allocate, and which limit sets that number."""

    available: int
    source: str

    @property
    def usable(self) -> int:
        """The share a loader may use (:data:`USABLE_SHARE`)."""
        return int(self.available * USABLE_SHARE)


def size_text(n_bytes: int) -> str:
    """``n_bytes`` for a reader: exact below 10 kB, else three digits in binary units."""
    if n_bytes < 10 * 1024:
        return f"{n_bytes} bytes"
    for unit in ("KiB", "MiB", "GiB", "TiB", "PiB", "EiB"):
        n_bytes /= 1024
        if n_bytes < 1024 or unit == "EiB":
            return f"{n_bytes:.3g} {unit}"
    raise AssertionError("unreachable")


def array_bytes(shape: tuple[int, ...], itemsize: int) -> int:
    """Bytes of a C array of ``shape``, as an exact Python int (no overflow)."""
    return math.prod(shape) * itemsize


def possible_shape(shape: tuple[int, ...], itemsize: int) -> bool:
    """Whether numpy can make an array of ``shape``: sizes >= 0 whose product times the
    itemsize, zero sizes aside, fits an index (numpy refuses the others even when a zero
    makes them empty)."""
    return all(d >= 0 for d in shape) and math.prod(d or 1 for d in shape) * itemsize <= sys.maxsize


def dataset_bytes(elements: int, source_itemsize: int, stored_itemsize: int) -> int:
    """Peak memory to load ``elements`` values: the source array, then the stored copy split
    into train and test (one more copy of the stored size)."""
    return elements * (source_itemsize + 2 * stored_itemsize)


def check_holds(where: str, claim: str, claimed: int, held: int, at_least: bool = False) -> None:
    """Refuse unless the ``held`` bytes are exactly the ``claimed`` ones.

    Args:
        where: The file (or ``file member name``) in words.
        claim: What its header says, e.g. ``"a (3, 4) float32 array"`` (its subject).
        claimed: Bytes of data that claim needs.
        held: Bytes of data the file holds after its header.
        at_least: ``held`` is a lower bound (a stream was not read to its end).
    """
    if held == claimed:
        return
    problem = (
        "truncated or lies about its size" if held < claimed else "longer than its header says"
    )
    raise UserError(
        f"{where} is {problem}: its header claims {claim}, {size_text(claimed)} of data, "
        f"but it holds {'at least ' if at_least else ''}{size_text(held)}"
    )


def check_expansion(where: str, claim: str, declared: int, compressed: int) -> None:
    """Refuse ``declared`` bytes from ``compressed`` deflate bytes beyond its maximum ratio."""
    if declared <= compressed * DEFLATE_MAX_RATIO + EXPANSION_SLACK:
        return
    raise UserError(
        f"{where} claims {claim}, {size_text(declared)} from {size_text(compressed)} of "
        f"compressed data, more than deflate's {DEFLATE_MAX_RATIO}:1 can expand; it is "
        "corrupt or a decompression bomb"
    )


def check_fits(where: str, claim: str, need: int, advice: str = UINT8_ADVICE) -> None:
    """Refuse loading that needs more than the usable share of the available memory.

    Args:
        where: The file or folder.
        claim: What it holds, e.g. ``"a (70000, 784) uint8 array"``.
        need: Peak bytes the loader will allocate for it.
        advice: What the user can do instead.
    """
    memory = available_memory()
    if need <= memory.usable:
        return
    raise UserError(
        f"{where} holds {claim}; loading it needs about {size_text(need)} of memory but "
        f"only {size_text(memory.usable)} may be used ({USABLE_SHARE:.0%} of the "
        f"{size_text(memory.available)} {memory.source}); {advice}"
    )


def available_memory() -> Memory:
    """The least of what the machine, the address-space limit and the cgroup leave us."""
    found = [_machine_available(), _address_space_left(), _cgroup_left()]
    return min((m for m in found if m is not None), key=lambda m: m.available)


def _read_kib(path: str, key: str) -> int | None:
    """The ``key:  N kB`` entry of a /proc file, in bytes."""
    try:
        with open(path, encoding="ascii") as handle:
            for line in handle:
                if line.startswith(f"{key}:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _machine_available() -> Memory:
    available = _read_kib("/proc/meminfo", "MemAvailable")
    if available is not None:
        return Memory(available, "available on this machine")
    try:  # not Linux: free physical pages
        pages = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        pages = 1 << 62  # unknown: only the other limits apply
    return Memory(pages, "free on this machine")


def _address_space_left() -> Memory | None:
    """What RLIMIT_AS (``ulimit -v``) leaves beyond the address space already mapped."""
    try:
        import resource
    except ImportError:  # Windows
        return None
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft == resource.RLIM_INFINITY:
        return None
    mapped = _read_kib("/proc/self/status", "VmSize") or 0
    return Memory(max(soft - mapped, 0), "left under the address-space limit (ulimit -v)")


def _cgroup_left() -> Memory | None:
    """What the container's memory limit leaves (cgroup v2, then v1)."""
    for limit, usage in (
        ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
        (
            "/sys/fs/cgroup/memory/memory.limit_in_bytes",
            "/sys/fs/cgroup/memory/memory.usage_in_bytes",
        ),
    ):
        try:
            cap, used = Path(limit).read_text().strip(), Path(usage).read_text().strip()
            if cap != "max" and int(cap) < 1 << 60:  # v1 writes a huge number for no limit
                return Memory(max(int(cap) - int(used), 0), "left under the cgroup memory limit")
        except (OSError, ValueError):
            continue
    return None
