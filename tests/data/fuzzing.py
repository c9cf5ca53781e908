"""Pieces of the loader fuzz tests: bounded memory and time, mutations, and file builders.

The builders write valid files byte by byte from the published formats (npy, zip, idx, PNG),
so that a strategy can then lie in exactly one field.
"""

from __future__ import annotations

import faulthandler
import gzip
import io
import math
import re
import resource
import signal
import struct
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch
from hypothesis import strategies as st

from vaebalance.data import Dataset
from vaebalance.errors import UserError

# Room the fuzzed loaders get on top of what the test process has already mapped.
ADDRESS_SPACE_ROOM = 2 << 30
EXAMPLE_SECONDS = 20  # one example that takes longer is a hang
# Sizes a header may claim: small ones that can load, and ones no file here can hold.
ENORMOUS = [2**31 - 1, 2**31, 2**32 - 1, 10**8, 10**12, 2**62, 2**63 - 1, 2**64]


def mapped_bytes() -> int:
    """This process's address space (VmSize)."""
    status = Path("/proc/self/status").read_text()
    return int(re.search(r"VmSize:\s+(\d+) kB", status).group(1)) * 1024


@contextmanager
def bounded() -> Iterator[None]:
    """Run the block under an address-space limit (``ulimit -v``).

    Any allocation the loaders did not refuse first fails with ``MemoryError``, which the
    tests count as a bug.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = mapped_bytes() + ADDRESS_SPACE_ROOM
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


@contextmanager
def time_limit(seconds: int = EXAMPLE_SECONDS) -> Iterator[None]:
    """Raise ``TimeoutError`` in the block after ``seconds`` (a hang is a bug)."""

    def expire(signum, frame):
        raise TimeoutError(f"a loader ran for more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    # SIGALRM cannot interrupt a C call that never returns: then kill the process, with
    # every thread's traceback, rather than hang CI.
    faulthandler.dump_traceback_later(3 * seconds, exit=True)
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def check_outcome(load, dataset: bool = True) -> object:
    """Run ``load()``: a valid dataset (or whatever a reader returns, when not ``dataset``),
    or one single-line :class:`UserError`; anything else fails the test."""
    with time_limit():
        try:
            data = load()
        except UserError as err:
            message = str(err)
            assert message and "\n" not in message and "\r" not in message, repr(message)
            return None
    if dataset:
        check_dataset(data)
    return data


def check_dataset(data: Dataset) -> None:
    """What every loaded dataset must be, whatever the file was."""
    assert isinstance(data, Dataset)
    assert len(data.train) >= 1 and len(data.test) >= 1
    for split in (data.train, data.test):
        assert tuple(split.shape[1:]) == data.shape and split.is_contiguous()
        if split.dtype != torch.uint8:
            assert split.dtype == torch.float32
            assert torch.isfinite(split).all() and split.min() >= 0 and split.max() <= 1
    for labels, split in ((data.train_labels, data.train), (data.test_labels, data.test)):
        assert labels is None or (labels.dtype == torch.int64 and len(labels) == len(split))


# --- mutations -----------------------------------------------------------------------------


@st.composite
def mutated(draw, base: bytes) -> bytes:
    """``base`` after up to three random edits: overwrite, insert, delete, truncate, append."""
    data = bytearray(base)
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(data)))
        kind = draw(st.sampled_from(["overwrite", "insert", "delete", "truncate", "append"]))
        chunk = draw(st.binary(min_size=1, max_size=8))
        if kind == "overwrite":
            data[at : at + len(chunk)] = chunk
        elif kind == "insert":
            data[at:at] = chunk
        elif kind == "delete":
            del data[at : at + len(chunk)]
        elif kind == "truncate":
            del data[at:]
        else:
            data += chunk
    return bytes(data)


def dims(max_rank: int = 5) -> st.SearchStrategy[list[int]]:
    """Shapes with zero, small and enormous sizes."""
    size = st.one_of(st.integers(0, 6), st.sampled_from(ENORMOUS))
    return st.lists(size, max_size=max_rank)


# --- .npy / .npz ---------------------------------------------------------------------------

DESCRS = [
    "|u1", "<f4", "<f8", ">f8", "<f2", "|b1", "<i8", ">i2", "<u2", "<c8", "|O", "<U3", "|S0",
    "|V4", "<M8[s]", [("a", "<f4")], ("|u1", (3,)), "bogus",
]  # fmt: skip


def npy_bytes(descr: object, shape: tuple, fortran: bool, payload: bytes, version=1) -> bytes:
    """An .npy file, header written by hand as the format describes (padded to 64 bytes)."""
    text = f"{{'descr': {descr!r}, 'fortran_order': {fortran}, 'shape': {shape!r}, }}"
    length = "<H" if version == 1 else "<I"
    prefix = 6 + 2 + struct.calcsize(length)
    pad = -(prefix + len(text) + 1) % 64
    header = (text + " " * pad + "\n").encode("latin1")
    return b"\x93NUMPY" + bytes([version, 0]) + struct.pack(length, len(header)) + header + payload


@st.composite
def npy_files(draw) -> bytes:
    """A valid small .npy, or one whose header lies about its dtype, shape or length."""
    if draw(st.booleans()):
        shape = tuple(draw(st.lists(st.integers(1, 5), min_size=2, max_size=4)))
        dtype = draw(st.sampled_from(["u1", "f4", "f8", "i8", "?"]))
        array = np.zeros(shape, dtype) if dtype != "u1" else np.full(shape, 7, np.uint8)
        buffer = io.BytesIO()
        np.save(buffer, array)
        return draw(mutated(buffer.getvalue()))
    shape = tuple(draw(dims()))
    descr = draw(st.sampled_from(DESCRS))
    itemsize = 4
    claimed = math.prod(shape) * itemsize
    size = claimed if claimed <= 4096 and draw(st.booleans()) else draw(st.integers(0, 300))
    payload = draw(st.binary(min_size=size, max_size=size))
    version = draw(st.sampled_from([1, 2]))
    return npy_bytes(descr, shape, draw(st.booleans()), payload, version)


def patch_declared_sizes(archive: bytes, size: int) -> bytes:
    """Overwrite every member's declared uncompressed size, local and central."""
    data = bytearray(archive)
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        for match in re.finditer(re.escape(signature), bytes(data)):
            at = match.start() + offset
            data[at : at + 4] = struct.pack("<I", size)
    return bytes(data)


@st.composite
def npz_files(draw) -> bytes:
    """An archive of .npy members (some lying), nested archives or junk, maybe mutated."""
    names = st.sampled_from(["x.npy", "y.npy", "data.npy", "labels.npy", "z.npy", "x", "d/"])
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in draw(st.lists(names, min_size=0, max_size=3, unique=True)):
            kind = draw(st.sampled_from(["npy", "nested", "junk"]))
            if kind == "npy":
                content = draw(npy_files())
            elif kind == "nested":
                inner = io.BytesIO()
                with zipfile.ZipFile(inner, "w") as nested:
                    nested.writestr("x.npy", draw(npy_files()))
                content = inner.getvalue()
            else:
                content = draw(st.binary(max_size=64))
            method = draw(st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED]))
            archive.writestr(name, content, compress_type=method)
    data = buffer.getvalue()
    if draw(st.booleans()):
        data = patch_declared_sizes(data, draw(st.sampled_from([0, 1, 2**20, 2**32 - 1])))
    return draw(mutated(data))


# --- idx -----------------------------------------------------------------------------------

IDX_TYPES = [0x08, 0x09, 0x0B, 0x0C, 0x0D, 0x0E, 0x00, 0x07, 0xFF]


@st.composite
def idx_files(draw, images: bool = True) -> bytes:
    """An idx file (maybe gzipped): valid, or with a lying type, rank, sizes or length."""
    if draw(st.booleans()):
        shape = [draw(st.integers(1, 4))] + ([3, 3] if images else [])
        code, values = 0x08, bytes(math.prod(shape))
    else:
        shape = draw(dims(max_rank=4))
        shape = [d % 2**32 for d in shape]  # an idx size is 4 bytes
        code = draw(st.sampled_from(IDX_TYPES))
        values = draw(st.binary(max_size=200))
    header = struct.pack(">BBBB", 0, 0, code, len(shape)) + struct.pack(f">{len(shape)}I", *shape)
    raw = draw(mutated(header + values))
    return gzip.compress(raw, mtime=0) if draw(st.booleans()) else raw


# --- CIFAR-10 batch pickles ----------------------------------------------------------------


def array_pickle(shape: tuple[int, ...], payload: bytes) -> bytes:
    """The protocol-2 opcodes numpy writes for a uint8 array, with any claimed shape."""

    def string(value: bytes) -> bytes:
        return b"T" + struct.pack("<I", len(value)) + value  # BINSTRING

    def integer(value: int) -> bytes:
        return b"\x8a" + bytes([8]) + struct.pack("<q", value)  # LONG1, 8 bytes

    dtype = (
        b"cnumpy\ndtype\n" + string(b"u1") + integer(0) + integer(1) + b"\x87R"
        + b"(" + integer(3) + string(b"|") + b"NNN" + integer(-1) + integer(-1) + integer(0)
        + b"tb"
    )  # fmt: skip
    dims_tuple = b"(" + b"".join(integer(d) for d in shape) + b"t"
    return (
        b"cnumpy.core.multiarray\n_reconstruct\n" + b"cnumpy\nndarray\n"
        + integer(0) + b"\x85" + string(b"b") + b"\x87R"
        + b"(" + integer(1) + dims_tuple + dtype + b"\x89" + string(payload) + b"tb"
    )  # fmt: skip


def batch_pickle(shape: tuple[int, ...], payload: bytes, labels: list[int]) -> bytes:
    """A batch dict whose data array claims ``shape``."""
    label_list = b"](" + b"".join(b"K" + bytes([v % 256]) for v in labels) + b"e"
    return (
        b"\x80\x02}(" + b"U\x04data" + array_pickle(shape, payload)
        + b"U\x06labels" + label_list + b"u."
    )  # fmt: skip


@st.composite
def cifar_files(draw) -> bytes:
    """A valid tiny batch, one whose array claims another shape, or a mutated pickle."""
    n = draw(st.integers(0, 3))
    if draw(st.booleans()):
        shape = (n, 3072)
    else:
        shape = tuple(d % 2**63 for d in draw(dims(max_rank=3)))
    payload = bytes(n * 3072) if draw(st.booleans()) else draw(st.binary(max_size=64))
    return draw(mutated(batch_pickle(shape, payload, list(range(n)))))


# --- PNG -----------------------------------------------------------------------------------


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_bytes(width: int, height: int, pixels: bytes, color: int = 0, depth: int = 8) -> bytes:
    """A PNG from its chunks (correct CRCs), with any claimed size and any pixel data."""
    ihdr = struct.pack(">IIBBBBB", width, height, depth, color, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", zlib.compress(pixels))
        + png_chunk(b"IEND", b"")
    )  # fmt: skip


@st.composite
def png_files(draw) -> bytes:
    """A valid 3x3 gray PNG, or one claiming another size, depth or colour type."""
    if draw(st.booleans()):
        return draw(mutated(png_bytes(3, 3, b"\0\x10\x20\x30" * 3)))
    width, height = (draw(st.sampled_from([0, 1, 3, 9000, 2**16, 2**31 - 1])) for _ in "wh")
    color = draw(st.sampled_from([0, 2, 3, 4, 6, 5]))
    depth = draw(st.sampled_from([1, 8, 16, 3]))
    return png_bytes(width, height, draw(st.binary(max_size=64)), color, depth)


def jpeg_bytes(mode: str) -> bytes:
    """A 3x3 JPEG written by Pillow (a decoder the loader allows besides PNG)."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.new(mode, (3, 3), 128 if mode == "L" else (10, 200, 30)).save(buffer, "JPEG")
    return buffer.getvalue()


@st.composite
def image_files(draw) -> bytes:
    """PNGs as :func:`png_files`, mutated JPEGs, or random bytes."""
    jpeg = st.sampled_from(["L", "RGB"]).map(jpeg_bytes).flatmap(mutated)
    return draw(st.one_of(png_files(), jpeg, st.binary(max_size=200)))
