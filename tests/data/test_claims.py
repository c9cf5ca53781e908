"""Files that lie about their size, or are too large, are refused before anything is allocated.

The two files of issue 18 (a 4 kB ``.npy`` claiming 100,000,000 × 1,000 float32 and a 2 MB
``.npz`` member claiming 10,000,000 × 64 × 64 uint8) go through the real CLI under a 6 GB
address-space limit; the other cases are files of the same kinds, one per loader.
"""

from __future__ import annotations

import gzip
import io
import pickle
import resource
import struct
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest

from vaebalance.data import claims, load_dataset, read_batch, read_idx
from vaebalance.data.claims import (
    DEFLATE_MAX_RATIO,
    EXPANSION_SLACK,
    Memory,
    available_memory,
    check_expansion,
    check_holds,
    size_text,
)
from vaebalance.errors import UserError

from .fuzzing import array_pickle, batch_pickle, mapped_bytes, npy_bytes, png_bytes

SIX_GB = 6 * 10**9


def header_only_npy(descr: str, shape: tuple, total: int) -> bytes:
    """An .npy header claiming ``shape``, padded with zeros to ``total`` bytes."""
    head = npy_bytes(descr, shape, False, b"")
    return head + bytes(total - len(head))


def issue_npz(path: Path) -> None:
    """A 2 MB archive whose one member claims 10,000,000 × 64 × 64 uint8 (38 GiB)."""
    member = npy_bytes("|u1", (10_000_000, 64, 64), False, bytes(2_000_000))
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("x.npy", member)


def _limit_address_space():
    resource.setrlimit(resource.RLIMIT_AS, (SIX_GB, SIX_GB))


def cli_under_6gb(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "vaebalance", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=_limit_address_space,
    )


ISSUE_FILES = {
    "big.npy": (
        lambda path: path.write_bytes(header_only_npy("<f4", (100_000_000, 1000), 4096)),
        "big.npy is truncated or lies about its size: its header claims a (100000000, 1000) "
        "float32 array, 373 GiB of data, but it holds 3968 bytes",
    ),
    "big.npz": (
        issue_npz,
        "big.npz member x.npy is truncated or lies about its size: its header claims a "
        "(10000000, 64, 64) uint8 array, 38.1 GiB of data, but it holds 1.91 MiB",
    ),
}


@pytest.mark.parametrize("name", sorted(ISSUE_FILES))
def test_the_issue_files_are_one_line_exit_2_under_a_6gb_limit(tmp_path, name):
    make, message = ISSUE_FILES[name]
    make(tmp_path / name)
    before = sorted(tmp_path.iterdir())
    proc = cli_under_6gb(["train", "--data", name, "--out", "run"], tmp_path)
    assert (proc.returncode, proc.stderr) == (2, f"error: {message}\n")
    assert sorted(tmp_path.iterdir()) == before  # no run directory, nothing written


def test_a_legitimate_file_too_large_for_the_limit_says_what_it_needs(tmp_path):
    """A sparse 7.6 GiB uint8 .npy that holds every byte it claims, under a 6 GB limit."""
    shape = (8_000_000, 1024)
    head = npy_bytes("|u1", shape, False, b"")
    with (tmp_path / "huge.npy").open("wb") as handle:
        handle.write(head)
        handle.truncate(len(head) + shape[0] * shape[1])  # a hole: no disk space used
    proc = cli_under_6gb(["train", "--data", "huge.npy"], tmp_path)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    assert proc.stderr.startswith(
        "error: huge.npy holds a (8000000, 1024) uint8 array; loading it needs about 22.9 GiB "
        "of memory but only "
    )
    assert proc.stderr.endswith(
        "left under the address-space limit (ulimit -v)); load a subset of the examples\n"
    )


@pytest.fixture
def small_memory(monkeypatch):
    """Pretend 1 MiB is available, so ordinary test files are 'too large'."""
    memory = Memory(1 << 20, "available on this machine")
    monkeypatch.setattr(claims, "available_memory", lambda: memory)
    return memory


def test_float_arrays_too_large_are_told_to_use_uint8(tmp_path, small_memory):
    np.save(tmp_path / "a.npy", np.zeros((1000, 100), np.float32))
    with pytest.raises(UserError) as err:
        load_dataset(str(tmp_path / "a.npy"))
    assert str(err.value) == (
        f"{tmp_path / 'a.npy'} holds a (1000, 100) float32 array; loading it needs about "
        "1.14 MiB of memory but only 819 KiB may be used (80% of the 1 MiB available on this "
        "machine); store the examples as uint8 (a quarter of float32) or load a subset of them"
    )


def test_every_loader_checks_memory_first(tmp_path, small_memory, idx_dir):
    """One file per loader that fits on disk but not in the (pretended) memory."""
    (tmp_path / "t.csv").write_text("\n".join(["0.5,0.25"] * 20_000))
    idx = tmp_path / "idx"
    idx_dir(idx, n_train=1200, size=(28, 28), gz=True)
    images = tmp_path / "images"
    images.mkdir()
    for i in range(3):
        (images / f"{i}.png").write_bytes(png_bytes(600, 600, bytes(601 * 600)))
    expected = {
        "t.csv": "t.csv holds 20000 rows of 2 values; loading it needs about 1.68 MiB",
        "idx": r"train-images-idx3-ubyte.gz holds sizes \[1200, 28, 28\] of uint8; loading it "
        "needs about 919 KiB",
        "images": "images holds 3 images of 600x600x1; loading it needs about 3.43 MiB",
    }
    for name, start in expected.items():
        with pytest.raises(UserError, match=f"{start} of memory but only 819 KiB may be used"):
            load_dataset(str(tmp_path / name))


def test_pretended_memory_is_not_needed_for_files_that_fit(tmp_path, small_memory):
    np.save(tmp_path / "a.npy", np.zeros((100, 10), np.uint8))
    assert load_dataset(str(tmp_path / "a.npy")).eight_bit


# --- .npz members ----------------------------------------------------------------------------


def npz_with(member: bytes, method: int = zipfile.ZIP_STORED, name: str = "x.npy") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(name, member, compress_type=method)
    return buffer.getvalue()


def patch_sizes(archive: bytes, size: int) -> bytes:
    """Declare every member ``size`` bytes long (local header and central directory)."""
    data = bytearray(archive)
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        at = data.find(signature) + offset
        data[at : at + 4] = struct.pack("<I", size)
    return bytes(data)


def test_member_declaring_more_than_deflate_can_expand_is_a_bomb(tmp_path):
    member = npy_bytes("|u1", (3, 4), False, bytes(12))
    path = tmp_path / "a.npz"
    path.write_bytes(patch_sizes(npz_with(member, zipfile.ZIP_DEFLATED), 4_000_000_000))
    with pytest.raises(UserError, match="member x.npy claims a deflated member, 3.73 GiB from"):
        load_dataset(str(path))


def test_stored_member_whose_declared_size_differs_from_its_bytes(tmp_path):
    path = tmp_path / "a.npz"
    path.write_bytes(patch_sizes(npz_with(npy_bytes("|u1", (3, 4), False, bytes(12))), 10**9))
    with pytest.raises(UserError, match=r"member x.npy is truncated or lies about its size: its"):
        load_dataset(str(path))


def test_nested_archive_is_refused(tmp_path):
    inner = npz_with(npy_bytes("|u1", (3, 4), False, bytes(12)))
    path = tmp_path / "a.npz"
    path.write_bytes(npz_with(inner, zipfile.ZIP_DEFLATED))
    with pytest.raises(UserError, match="member x.npy is itself a zip archive; nested archives"):
        load_dataset(str(path))


def test_other_compression_methods_are_refused(tmp_path):
    path = tmp_path / "a.npz"
    path.write_bytes(npz_with(npy_bytes("|u1", (3, 4), False, bytes(12)), zipfile.ZIP_BZIP2))
    with pytest.raises(UserError, match="uses zip compression method 12; numpy writes stored"):
        load_dataset(str(path))


def test_header_length_is_checked_before_it_is_read(tmp_path):
    """A version 2 header may claim 4 GiB; numpy would read (and allocate) that much."""
    path = tmp_path / "a.npy"
    path.write_bytes(b"\x93NUMPY\x02\x00" + struct.pack("<I", 2**32 - 1) + b"{}")
    with pytest.raises(UserError, match="a header of 4294967295 bytes, more than the 10000"):
        load_dataset(str(path))


# --- idx, CIFAR, PNG -------------------------------------------------------------------------


def test_gzipped_idx_claiming_more_than_it_can_expand_to(tmp_path):
    header = struct.pack(">BBBBIII", 0, 0, 8, 3, 100_000, 100, 100)
    path = tmp_path / "x.gz"
    path.write_bytes(gzip.compress(header + bytes(1000)))
    with pytest.raises(UserError, match=r"x.gz claims sizes \[100000, 100, 100\] of uint8, 954 M"):
        read_idx(path)


def test_plain_idx_claiming_more_than_it_holds(tmp_path):
    path = tmp_path / "x"
    path.write_bytes(struct.pack(">BBBBIII", 0, 0, 0x0E, 3, 2**16, 2**16, 10) + bytes(8))
    with pytest.raises(
        UserError,
        match=r"x is truncated or lies about its size: its header claims sizes \[65536, 65536, "
        r"10\] of float64, 320 GiB of data, but it holds 8 bytes$",
    ):
        read_idx(path)


CIFAR_TRAPS = {
    # A direct call of numpy.ndarray(shape) would allocate whatever the file asks for.
    "ndarray-call": b"\x80\x02cnumpy\nndarray\n(J\x00\xe1\xf5\x05J\x00\xe1\xf5\x05t\x85R.",
    # An array state claiming 10^12 elements with 3 bytes of data.
    "state-lies": b"\x80\x02}(U\x04data"
    + array_pickle((10**6, 10**6), b"abc")
    + b"U\x06labels](eu.",
}


@pytest.mark.parametrize("trap", sorted(CIFAR_TRAPS))
def test_cifar_pickles_cannot_make_numpy_allocate(tmp_path, trap):
    path = tmp_path / "b"
    path.write_bytes(CIFAR_TRAPS[trap])
    with pytest.raises(UserError, match=f"{path} is not a readable CIFAR-10 batch pickle"):
        read_batch(path)


def test_cifar_object_dtype_state_is_refused(tmp_path):
    """An object array state builds a list-backed array sized by its shape: refused."""
    state = pickle.dumps({"data": np.array([None, 1], dtype=object), "labels": []}, protocol=2)
    path = tmp_path / "b"
    path.write_bytes(state)
    with pytest.raises(UserError, match="is not a plain numeric dtype"):
        read_batch(path)


def test_png_claiming_more_pixels_than_its_bytes_hold(tmp_path):
    folder = tmp_path / "images"
    folder.mkdir()
    (folder / "a.png").write_bytes(png_bytes(9000, 9000, b"\0" * 10))
    with pytest.raises(UserError, match=r"a.png claims a 9000x9000 image, 9.66 MiB from \d+ bytes"):
        load_dataset(str(folder))


# --- the shared helper -----------------------------------------------------------------------


def test_deflate_never_beats_its_bound():
    """The bound is real: zlib's best ratio on the most compressible input stays under it."""
    for size in (1 << 16, 1 << 22):
        compressed = len(zlib.compress(bytes(size), 9))
        assert size / compressed < DEFLATE_MAX_RATIO
        check_expansion("z", "zeros", size, compressed)
    with pytest.raises(UserError, match="more than deflate's 1032:1 can expand"):
        check_expansion("z", "zeros", 100 * DEFLATE_MAX_RATIO + EXPANSION_SLACK + 1, 100)


def test_size_text():
    assert size_text(10239) == "10239 bytes"
    assert size_text(10240) == "10 KiB"
    assert size_text(400 * 10**9) == "373 GiB"
    assert size_text(2**64) == "16 EiB"


def test_check_holds_accepts_only_the_exact_size():
    check_holds("f", "c", 12, 12)
    with pytest.raises(UserError, match="^f is truncated or lies about its size: its header "):
        check_holds("f", "c", 12, 11)
    with pytest.raises(UserError, match="^f is longer than its header says: .* at least 13"):
        check_holds("f", "c", 12, 13, at_least=True)


def test_available_memory_sees_the_address_space_limit():
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = mapped_bytes() + (1 << 30)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    try:
        memory = available_memory()
        room = limit - mapped_bytes()
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
    assert memory.source == "left under the address-space limit (ulimit -v)"
    assert abs(memory.available - room) < 64 << 20  # VmSize moves a little between reads
    assert available_memory().available > 0


# --- what the fuzz tests found (each was an exception other than UserError) ---------------


def test_idx_sizes_whose_product_overflows_despite_a_zero(tmp_path):
    """Zero bytes of data, but numpy refuses the shape: was a ValueError from reshape."""
    path = tmp_path / "x"
    path.write_bytes(struct.pack(">BBBB4I", 0, 0, 8, 4, 0, *[2**31 - 1] * 3))
    with pytest.raises(UserError, match=r"its sizes \[0, 2147483647, .*\] overflow an index"):
        read_idx(path)


def test_cifar_empty_array_of_an_impossible_shape(tmp_path):
    """A state of shape (0, 2, 2**62) with no data: was a ValueError from np.asarray."""
    path = tmp_path / "b"
    path.write_bytes(
        b"\x80\x02}(U\x04data" + array_pickle((0, 2, 2**62), b"") + b"U\x06labels](eu."
    )
    with pytest.raises(
        UserError, match=r"pickle: no array can have shape \(0, 2, 4611686018427387904\)"
    ):
        read_batch(path)


def test_cifar_error_quoting_raw_bytes_stays_on_one_line(tmp_path):
    """pickle's FLOAT opcode quoted the raw line it could not parse, newline and all."""
    path = tmp_path / "b"
    path.write_bytes(b"F\x02}(U\x04data\n.")
    with pytest.raises(UserError) as err:
        read_batch(path)
    assert "\n" not in str(err.value) and "could not convert string to float" in str(err.value)


def test_reason_escapes_control_characters_and_caps_length():
    from vaebalance.data.files import reason

    assert reason(ValueError("bad: '\x02}\n'")) == "bad: '\\x02}\\n'"
    assert reason(ValueError()) == "ValueError"
    assert len(reason(ValueError("x" * 1000))) == 200


def test_png_chunk_longer_than_the_file(tmp_path):
    """An IDAT stating 2 GiB in a 70-byte file: Pillow read it in one call (MemoryError)."""
    content = bytearray(png_bytes(3, 3, bytes(12)))
    at = content.find(b"IDAT") - 4
    content[at : at + 4] = struct.pack(">I", 0x7D00000E)
    folder = tmp_path / "images"
    folder.mkdir()
    (folder / "a.png").write_bytes(bytes(content))
    with pytest.raises(
        UserError,
        match=r"a.png is truncated or lies about its size: its header claims a chunk IDAT, 1.95 GiB",
    ):
        load_dataset(str(folder))


def test_cifar_dtype_state_cannot_crash_numpy(tmp_path):
    """A mutated dtype state (6 items, byte order 'N') made numpy's dtype.__setstate__
    segfault the interpreter; the fuzz tests found it. Only the byte order is now taken."""
    good = batch_pickle((1, 3072), bytes(3072), [0])
    bad = good.replace(b"T\x01\x00\x00\x00|NNN", b"T\x01\x00\x00\x00NN")
    assert bad != good
    path = tmp_path / "b"
    path.write_bytes(bad)
    code = f"from vaebalance.data import read_batch; read_batch(__import__('pathlib').Path({str(path)!r}))"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1 and "UserError" in proc.stderr  # an exception, not a crash
    assert "a dtype state without a byte order" in proc.stderr


@pytest.mark.parametrize("suffix", [".csv", ".npy", ".npz"])
def test_a_link_to_an_endless_device_is_refused(tmp_path, suffix):
    """/dev/zero has no size to check a claim against, and a CSV read of it never ends."""
    link = tmp_path / f"zero{suffix}"
    link.symlink_to("/dev/zero")
    with pytest.raises(UserError, match=f"^cannot load {link}: it is not a regular file$"):
        load_dataset(str(link))


def test_idx_empty_shape_that_overflows_only_with_its_itemsize(tmp_path):
    """(0, 2**31-1, 2**31-1) of int32: the sizes fit an index, times 4 bytes they do not."""
    path = tmp_path / "x"
    path.write_bytes(struct.pack(">BBBB3I", 0, 0, 0x0C, 3, 0, 2**31 - 1, 2**31 - 1))
    with pytest.raises(UserError, match="overflow an index"):
        read_idx(path)


def test_cifar_stated_length_beyond_the_file_is_refused_before_allocating(tmp_path):
    """BYTEARRAY8 stating 9.4 TB in a 400-byte file: CPython allocates before it reads
    (MemoryError, and a bytearray freed while exported); the opcodes are now walked first."""
    path = tmp_path / "b"
    path.write_bytes(b"\x80\x05\x96" + struct.pack("<Q", 9393093476187) + bytes(59) + b".")
    with pytest.raises(
        UserError, match="expected 9393093476187 bytes in a bytearray8, but only 60"
    ):
        read_batch(path)
