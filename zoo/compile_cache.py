"""XLA's compiled epochs kept on disk, so that running the same model again skips the compile.

On a CPU, XLA takes about a second to compile the lab's epoch; the program depends only on the
model, the batch and the data's shapes, so a student who runs the lab again (another learning
rate, another seed) gets the same program. TensorFlow can save and load such programs
(``TF_XLA_FLAGS=--tf_xla_persistent_cache_directory=...``, read once, before the first XLA
compile of the process) and checks that a loaded program is the one it would have compiled.
It writes files in place, though, and a file cut short (a process killed while writing, two
runs writing the same program) would fail every later run that reads it. So TensorFlow is
given a folder of this process's own, holding links to the complete programs of the shared
cache, and the programs it writes there are moved into the shared cache, whole, by renaming.

The shared cache is ``$ZOO_CACHE/xla`` (``~/.cache/zoo/xla``), one subfolder per TensorFlow
version and CPU, oldest programs pruned past `MAX_BYTES`. A user's own
``tf_xla_persistent_cache_directory`` in TF_XLA_FLAGS (even empty, which turns saving off) is
left alone.
"""

from __future__ import annotations

import atexit
import hashlib
import os
import platform
import shutil
import socket
import time
from pathlib import Path

FLAG = "tf_xla_persistent_cache_directory"
MAX_BYTES = 256 * 2**20  # programs are about 0.5 MB for the lab's model
STALE_SECONDS = 24 * 3600  # a folder of a process on another host, or killed long ago
PROGRAM_SUFFIX = ".pb"

_folder: Path | None = None  # this process's folder, once TensorFlow has been given it
_shared: Path | None = None


def machine_tag() -> str:
    """TensorFlow's version and the CPU's model and instruction set: a program compiled for
    one CPU must never run on another (a shared home folder on several machines)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        tf_version = version("tensorflow")
    except PackageNotFoundError:
        tf_version = "unknown"
    cpu = platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as info:
            lines = [ln for ln in info if ln.startswith(("model name", "flags", "Features"))]
        cpu += "".join(sorted(set(lines)))
    except OSError:
        cpu += platform.processor()
    digest = hashlib.sha256(cpu.encode()).hexdigest()[:12]
    return f"tf-{tf_version}-{digest}"


def active_folder() -> Path | None:
    """This process's program folder, or None when programs are not kept."""
    return _folder


def use_compile_cache(root: Path | None = None) -> Path | None:
    """Give TensorFlow this process's program folder (once); returns it, or None when the
    cache is off (the user's own TF_XLA_FLAGS, no writable cache folder).

    TensorFlow reads TF_XLA_FLAGS once, as it sets up its devices: `zoo.backend` calls this
    before TensorFlow is imported. Called again, it links the programs other processes added
    since."""
    global _folder, _shared
    if _folder is not None:
        _link_programs(_shared, _folder)
        return _folder
    if FLAG in os.environ.get("TF_XLA_FLAGS", ""):
        return None
    if root is None:
        from zoo.datasets.fetch import cache_dir

        root = cache_dir() / "xla"
    shared = root / machine_tag()
    try:
        shared.mkdir(parents=True, exist_ok=True)
        _clean(shared)
        folder = shared / f".{socket.gethostname()}-{os.getpid()}-{time.time_ns()}"
        folder.mkdir()
    except OSError:  # a read-only home, a full disk: compile as usual
        return None
    _link_programs(shared, folder)
    flags = os.environ.get("TF_XLA_FLAGS", "")
    # CPU programs only: the folder is named after this CPU, not after any GPU
    ours = f"--{FLAG}={folder} --tf_xla_persistent_cache_device_types=CPU"
    os.environ["TF_XLA_FLAGS"] = f"{flags} {ours}".strip()
    _folder, _shared = folder, shared
    atexit.register(close)
    return folder


def keep_new_programs() -> None:
    """Move the programs TensorFlow wrote into the shared cache. Call it after an XLA call
    has returned without error: its compile, and the file it wrote, are then whole."""
    if _folder is None:
        return
    for path in _new_programs():
        try:
            os.replace(path, _shared / path.name)  # same file system: atomic
            os.symlink(_shared / path.name, path)
        except OSError:
            pass


def forget_programs() -> None:
    """After an XLA call failed: drop what this process wrote and every cached program (one
    of them may be what TensorFlow could not load); later runs compile anew."""
    if _folder is None:
        return
    for path in [*_new_programs(), *_folder.glob(f"*{PROGRAM_SUFFIX}")]:
        path.unlink(missing_ok=True)
    for path in _shared.glob(f"*{PROGRAM_SUFFIX}"):
        path.unlink(missing_ok=True)


def _new_programs() -> list[Path]:
    return [p for p in _folder.glob(f"*{PROGRAM_SUFFIX}") if not p.is_symlink()]


def _link_programs(shared: Path, folder: Path) -> None:
    for path in shared.glob(f"*{PROGRAM_SUFFIX}"):
        link = folder / path.name
        if not link.exists():
            try:
                os.symlink(path, link)
            except OSError:
                pass


def _clean(shared: Path) -> None:
    """Remove the folders of processes that are gone, then the oldest programs past MAX_BYTES."""
    host = socket.gethostname()
    now = time.time()
    for folder in shared.glob(".*-*-*"):
        name_host, _, rest = folder.name[1:].rpartition("-")[0].rpartition("-")
        try:
            pid = int(rest)
            alive = name_host == host and _alive(pid)
            if not alive and (name_host == host or now - folder.stat().st_mtime > STALE_SECONDS):
                shutil.rmtree(folder, ignore_errors=True)
        except (ValueError, OSError):
            continue
    programs = []
    for path in shared.glob(f"*{PROGRAM_SUFFIX}"):
        try:
            stat = path.stat()
        except OSError:
            continue
        programs.append((stat.st_atime, stat.st_size, path))
    total = sum(size for _, size, _ in programs)
    for _, size, path in sorted(programs):
        if total <= MAX_BYTES:
            break
        path.unlink(missing_ok=True)
        total -= size


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def close() -> None:
    """Remove this process's folder (at exit). What a failed or unfinished compile left
    there is not moved to the cache: only whole programs are shared."""
    if _folder is not None:
        shutil.rmtree(_folder, ignore_errors=True)
