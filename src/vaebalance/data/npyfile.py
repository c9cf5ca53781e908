"""Reading ``.npy`` files and ``.npz`` archives without trusting a byte of them.

An ``.npy`` file is the magic ``\\x93NUMPY``, a version, a little-endian header length (2
bytes in version 1, 4 in version 2), a header that is a Python literal dict (``descr``,
``fortran_order``, ``shape``), then the raw values. An ``.npz`` is a zip archive of ``.npy``
members. Here the header is parsed by numpy's literal-only parser from a bounded buffer,
never with ``allow_pickle``, and the claimed ``shape × dtype`` is checked against the bytes
that follow and against the memory there is (:mod:`vaebalance.data.claims`) before the array
is allocated; a member is read through :mod:`zipfile`, which stops at its declared size.
"""

from __future__ import annotations

import io
import math
import struct
import warnings
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
from numpy.lib import format as npformat

from vaebalance.data.claims import array_bytes, check_expansion, check_holds, possible_shape
from vaebalance.data.files import fill, reason
from vaebalance.errors import UserError

NPY_MAGIC = b"\x93NUMPY"
ZIP_MAGIC = b"PK"
# numpy's own limit on header length, above which it calls a header unsafe to parse.
MAX_HEADER = 10_000
# Header-length field per version: struct format; version 3 (utf-8 names) is only written
# for structured dtypes, which datasets never are.
LENGTH_FIELDS = {(1, 0): "<H", (2, 0): "<I"}
READERS = {(1, 0): npformat.read_array_header_1_0, (2, 0): npformat.read_array_header_2_0}
ZIP_ERRORS = (OSError, EOFError, zipfile.BadZipFile, zlib.error, ValueError, RuntimeError)
OBJECT_REFUSAL = (
    "holds Python objects (an object array), which are not loaded for safety; save plain "
    "numeric arrays instead"
)


def invalid(where: str, reason: str) -> UserError:
    """The error for bytes that are not the format they should be."""
    return UserError(f"{where} is not a valid .npy/.npz file: {reason}")


@dataclass(frozen=True)
class ArrayHeader:
    """What an ``.npy`` header claims, and where its data starts."""

    shape: tuple[int, ...]
    dtype: np.dtype
    fortran_order: bool
    offset: int  # bytes before the data

    @property
    def nbytes(self) -> int:
        return array_bytes(self.shape, self.dtype.itemsize)

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    @property
    def claim(self) -> str:
        """The claim in words, e.g. ``"a (3, 4) float32 array"``."""
        return f"a {self.shape} {self.dtype} array"


def read_header(stream: BinaryIO, where: str) -> ArrayHeader:
    """Parse the ``.npy`` header at the start of ``stream``, leaving it at the data.

    Raises:
        UserError: For a wrong magic, an unknown version, a header longer than
            :data:`MAX_HEADER`, anything numpy's literal parser refuses, an object or
            structured dtype, or an impossible shape.
    """
    start = stream.read(len(NPY_MAGIC) + 2)
    if start.startswith(ZIP_MAGIC):
        raise UserError(f"{where} is itself a zip archive; nested archives are not read")
    if not start.startswith(NPY_MAGIC) or len(start) < len(NPY_MAGIC) + 2:
        raise invalid(where, f"it starts with {start[:6]!r}")
    version = (start[-2], start[-1])
    if version not in LENGTH_FIELDS:
        raise invalid(where, f"format version {version[0]}.{version[1]}, expected 1.0 or 2.0")
    field = stream.read(struct.calcsize(LENGTH_FIELDS[version]))
    if len(field) < struct.calcsize(LENGTH_FIELDS[version]):
        raise invalid(where, "it ends inside its header")
    (length,) = struct.unpack(LENGTH_FIELDS[version], field)
    # Checked before reading: a version 2 header may claim a length of 4 GiB.
    if length > MAX_HEADER:
        raise invalid(where, f"a header of {length} bytes, more than the {MAX_HEADER} parsed")
    text = stream.read(length)
    if len(text) < length:
        raise invalid(where, "it ends inside its header")
    raw = start + field + text
    return _parse_header(raw, version, where)


def _parse_header(raw: bytes, version: tuple[int, int], where: str) -> ArrayHeader:
    """Hand the bounded header bytes to numpy's literal-only parser and vet the result."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # numpy warns on (and re-parses) Python 2 headers
            buffer = io.BytesIO(raw)
            npformat.read_magic(buffer)
            shape, fortran_order, dtype = READERS[version](buffer, max_header_size=MAX_HEADER)
    except Exception as err:  # a parser fed hostile text may raise any type; it only reads
        raise invalid(where, reason(err)) from None
    if dtype.hasobject:
        raise UserError(f"{where} {OBJECT_REFUSAL}")
    if dtype.fields is not None or dtype.subdtype is not None or dtype.itemsize == 0:
        raise UserError(f"{where} holds {dtype} values; expected uint8, bool, int or float")
    if not possible_shape(shape, dtype.itemsize):
        raise invalid(where, f"impossible shape {shape}")
    return ArrayHeader(tuple(shape), dtype, fortran_order, len(raw))


def read_data(stream: BinaryIO, header: ArrayHeader, where: str) -> np.ndarray:
    """Read the values that follow ``header`` into a fresh array, in chunks.

    The caller has checked the claim against the bytes held and the memory available; a
    stream that still ends early (a member whose deflate data is short) is refused here.
    """
    array = np.empty(header.shape[::-1] if header.fortran_order else header.shape, header.dtype)
    done = fill(stream, array.reshape(-1).view(np.uint8))
    check_holds(where, header.claim, header.nbytes, done)
    return array.T if header.fortran_order else array


def npy_header(path: Path) -> ArrayHeader:
    """The header of a ``.npy`` file, checked against the bytes the file holds."""
    try:
        with path.open("rb") as handle:
            header = read_header(handle, str(path))
            held = path.stat().st_size - header.offset
    except OSError as err:
        raise UserError(f"cannot read {path}: {err.strerror or err}") from None
    check_holds(str(path), header.claim, header.nbytes, held)
    return header


def read_npy(path: Path, header: ArrayHeader) -> np.ndarray:
    """The array of a ``.npy`` file whose ``header`` (from :func:`npy_header`) was checked."""
    try:
        with path.open("rb") as handle:
            handle.seek(header.offset)
            return read_data(handle, header, str(path))
    except OSError as err:
        raise UserError(f"cannot read {path}: {err.strerror or err}") from None


@contextmanager
def open_npz(path: Path) -> Iterator[zipfile.ZipFile]:
    """The archive, with every way :mod:`zipfile` fails turned into one line."""
    try:
        with zipfile.ZipFile(path) as archive:
            yield archive
    except UserError:
        raise
    except ZIP_ERRORS as err:
        raise invalid(str(path), reason(err)) from None


def npz_members(archive: zipfile.ZipFile) -> dict[str, zipfile.ZipInfo]:
    """Array names (member names less ``.npy``, as numpy names them) and their members."""
    return {
        info.filename.removesuffix(".npy"): info
        for info in archive.infolist()
        if info.filename.endswith(".npy") and not info.is_dir()
    }


def member_header(archive: zipfile.ZipFile, info: zipfile.ZipInfo, path: Path) -> ArrayHeader:
    """Check one member's sizes and parse its header; refuse nested archives and bombs."""
    where = f"{path} member {info.filename}"
    if info.flag_bits & 0x1:
        raise UserError(f"{where} is encrypted; save the arrays without a password")
    if info.compress_type == zipfile.ZIP_STORED:
        check_holds(where, "a stored member", info.file_size, info.compress_size)
    elif info.compress_type == zipfile.ZIP_DEFLATED:
        check_expansion(where, "a deflated member", info.file_size, info.compress_size)
    else:
        raise UserError(
            f"{where} uses zip compression method {info.compress_type}; numpy writes stored "
            "or deflated members only"
        )
    with archive.open(info) as member:
        header = read_header(member, where)
    check_holds(where, header.claim, header.nbytes, info.file_size - header.offset)
    return header


def read_member(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, header: ArrayHeader, path: Path
) -> np.ndarray:
    """The array of a member whose ``header`` (from :func:`member_header`) was checked.

    :mod:`zipfile` stops at the member's declared size and checks its CRC at the end.
    """
    with archive.open(info) as member:
        member.read(header.offset)
        return read_data(member, header, f"{path} member {info.filename}")
