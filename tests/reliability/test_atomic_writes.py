"""Every file the package writes goes through ``storage.atomic_write`` (temp file in the same
folder, fsync, rename): a crash or a full disk leaves the old file or the new one, never half."""

from __future__ import annotations

import ast
import errno
import os
from pathlib import Path

import pytest

from vaebalance import storage
from vaebalance.errors import UserError

SRC = Path(__file__).resolve().parents[2] / "src" / "vaebalance"

# Functions allowed to open files for writing, and why.
ALLOWED = {
    "atomic_write": "the atomic writer itself",
    "lock": "an flock lock file of a sweep's or a tune's directory; it holds no data",
    "to_png": "savefig into an in-memory buffer",
}
WRITE_CALLS = {
    "torch.save", "np.save", "np.savez", "np.savez_compressed", "np.savetxt", "numpy.save",
    "json.dump", "pickle.dump", "shutil.copy", "shutil.copy2", "shutil.copyfile",
    "shutil.move",
}  # fmt: skip


def _mode(node: ast.Call, position: int) -> str:
    args = {k.arg: k.value for k in node.keywords}
    mode = args.get("mode") or (node.args[position] if len(node.args) > position else None)
    return mode.value if isinstance(mode, ast.Constant) and isinstance(mode.value, str) else ""


def direct_writes(source: str) -> list[tuple[str, int]]:
    """(enclosing function, line) of each call in ``source`` that writes a file in place."""
    found = []

    def visit(node, function):
        for child in ast.iter_child_nodes(node):
            name = function
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                name = child.name
            if isinstance(child, ast.Call):
                func = ast.unparse(child.func)
                writes = (
                    func in WRITE_CALLS
                    or func.endswith((".write_text", ".write_bytes", ".savefig"))
                    or (func == "open" and set(_mode(child, 1)) & set("wax+"))
                    or (func.endswith(".open") and set(_mode(child, 0)) & set("wax+"))
                    or (
                        func == "os.open"
                        and any(f in ast.unparse(child) for f in ("O_WRONLY", "O_RDWR", "O_CREAT"))
                    )
                )
                if writes and function not in ALLOWED:
                    found.append((function or "<module>", child.lineno))
            visit(child, name)

    visit(ast.parse(source), None)
    return found


def test_the_checker_finds_in_place_writes():
    source = (
        "def f(p):\n"
        "    open(p, 'w').write('x')\n"
        "    p.write_text('x')\n"
        "    p.open('ab')\n"
        "    torch.save({}, p)\n"
        "    fig.savefig(p)\n"
        "    open(p)\n"  # reading is fine
        "    open(p, mode='rb')\n"
    )
    assert [line for _, line in direct_writes(source)] == [2, 3, 4, 5, 6]


def test_the_package_writes_files_only_atomically():
    found = {
        str(path.relative_to(SRC)): writes
        for path in SRC.rglob("*.py")
        if (writes := direct_writes(path.read_text()))
    }
    assert found == {}, (
        "write through vaebalance.storage.atomic_write (or write_json/_csv/_tensors)"
    )


@pytest.mark.parametrize("fail_in", ["write", "fsync", "replace"])
def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(fail_in, tmp_path, monkeypatch):
    target = tmp_path / "metrics.json"
    storage.write_json(target, {"old": 1})
    before = target.read_bytes()

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    if fail_in == "write":
        monkeypatch.setattr(os, "fdopen", lambda fd, mode: _FullFile(fd))
    else:
        monkeypatch.setattr(os, fail_in, full)
    with pytest.raises(UserError) as err:
        storage.write_json(target, {"new": 2})
    assert str(err.value) == f"cannot write {target}: No space left on device"
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.json"]


class _FullFile:
    """A file object whose writes fail as on a full disk."""

    def __init__(self, fd):
        self.fd = fd

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        os.close(self.fd)

    def fileno(self):
        return self.fd

    def write(self, data):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_written_files_follow_the_umask(tmp_path):
    old = os.umask(0o027)
    try:
        # atomic_write reads the umask once, at import: check against that value.
        storage.write_json(tmp_path / "a.json", {})
    finally:
        os.umask(old)
    assert (tmp_path / "a.json").stat().st_mode & 0o777 == 0o666 & ~storage._UMASK


def test_resume_cleans_what_an_interrupted_write_left(tmp_path):
    (tmp_path / ".config.json.a1b2c3.tmp").write_text("{")
    (tmp_path / "keep.tmp").write_text("not ours: no leading dot")
    removed = storage.remove_temporary_files(tmp_path)
    assert [p.name for p in removed] == [".config.json.a1b2c3.tmp"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.tmp"]
