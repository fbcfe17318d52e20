"""Fast embedded signing for ISO BMFF (MP4 / MOV / M4V): c2pa-rs's placeholder workflow.

``Builder.sign`` reads the source, writes the output and re-reads it to hash, all through
Python stream callbacks. Here we write the output ourselves (kernel copies of the media,
offset tables patched in memory) on one thread while c2pa-rs hashes a *virtual* view of that
same output (source bytes + placeholder + patched tables) on the calling thread; then we
sign and overwrite the placeholder in place. The result has the layout ``Builder.sign``
produces: the C2PA ``uuid`` box right after ``ftyp`` and every later box moved by its size.

``scan`` and ``prepare`` raise ``Unsupported`` (before anything is written) for any layout or
library this module does not handle; the caller then signs the slow, general way.
"""

from __future__ import annotations

import bisect
import ctypes
import errno
import functools
import os
import threading
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from detectors.memory import advise_huge_pages
from governance.core.errors import SigningError
from governance.provenance.signing._bmff import Unsupported, box_header, patch_offsets

__all__ = ["Unsupported", "Layout", "Plan", "scan", "prepare", "write_and_sign", "patch_offsets", "manifest_store"]

C2PA_UUID = bytes.fromhex("D8FEC3D61B0E483C92975828877EC481")
_BMFF_HASH = 1  # C2paHashType::Bmff
_TABLES = frozenset({b"moov", b"moof", b"mfra", b"meta"})  # top-level boxes read and patched in memory
_MAX_TABLE = 64 << 20  # moov + moof + mfra + meta together; a 10-minute 1080p moov is well under 1 MB
_MAX_BOXES = 100_000  # top-level boxes (a fragmented hour at 1 fragment/s has ~7,200)
_COPY_CHUNK = 64 << 20  # copy_file_range piece: small enough to notice a failed hash quickly
_RW_CHUNK = 1 << 20


@dataclass(frozen=True)
class Box:
    kind: bytes
    offset: int
    size: int


@dataclass(frozen=True)
class Layout:
    """A source's top-level boxes, the bytes of the ones holding offsets (by box offset), and
    the file's identity when scanned (device, inode, size, mtime): signing checks it is unchanged."""

    boxes: tuple[Box, ...]
    size: int
    tables: dict[int, bytes]
    identity: tuple[int, int, int, int]


@dataclass(frozen=True)
class Plan:
    """The output as segments ``(out_offset, length, bytes or None, src_offset)``: ``None`` means
    "copy from the source at src_offset"; ``manifest_at`` is where the placeholder sits."""

    segments: tuple[tuple[int, int, bytes | None, int], ...]
    size: int
    manifest_at: int
    manifest_size: int


# --- C API (functions c2pa-python 0.38 does not wrap) -------------------------------------

_P = ctypes.c_void_p
_READ_T = ctypes.CFUNCTYPE(ctypes.c_ssize_t, _P, _P, ctypes.c_ssize_t)
_SEEK_T = ctypes.CFUNCTYPE(ctypes.c_ssize_t, _P, ctypes.c_ssize_t, ctypes.c_int)
_WRITE_T = ctypes.CFUNCTYPE(ctypes.c_ssize_t, _P, _P, ctypes.c_ssize_t)
_FLUSH_T = ctypes.CFUNCTYPE(ctypes.c_ssize_t, _P)


@functools.cache
def _lib() -> SimpleNamespace:
    """Our own function objects on the library c2pa-python loaded: setting argtypes on its
    objects would change how c2pa-python calls them."""
    from c2pa import c2pa as wrapper

    path = getattr(getattr(wrapper, "_lib", None), "_name", None)
    if not path:
        raise Unsupported("c2pa-python's native library path is unknown")
    lib = ctypes.CDLL(path)
    outp = ctypes.POINTER(_P)
    signatures: dict[str, tuple[Any, list[Any]]] = {
        "c2pa_error": (_P, []),
        "c2pa_string_free": (None, [_P]),
        "c2pa_free": (ctypes.c_int, [_P]),
        "c2pa_create_stream": (_P, [_P, _P, _P, _P, _P]),
        "c2pa_release_stream": (None, [_P]),
        "c2pa_builder_needs_placeholder": (ctypes.c_int, [_P, ctypes.c_char_p]),
        "c2pa_builder_hash_type": (ctypes.c_int, [_P, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int)]),
        "c2pa_builder_placeholder": (ctypes.c_int64, [_P, ctypes.c_char_p, outp]),
        "c2pa_builder_update_hash_from_stream": (ctypes.c_int, [_P, ctypes.c_char_p, _P]),
        "c2pa_builder_sign_embeddable": (ctypes.c_int64, [_P, ctypes.c_char_p, outp]),
    }
    fns = {}
    for name, (restype, argtypes) in signatures.items():
        try:
            fn = getattr(lib, name)
        except AttributeError:
            raise Unsupported(f"{path} has no {name}") from None
        fn.restype, fn.argtypes = restype, argtypes
        fns[name.removeprefix("c2pa_")] = fn
    return SimpleNamespace(**fns)


def _last_error(lib: SimpleNamespace) -> str:
    ptr = lib.error()
    if not ptr:
        return "unknown c2pa error"
    try:
        return ctypes.string_at(ptr).decode("utf-8", "replace")
    finally:
        lib.string_free(ptr)


def _take(lib: SimpleNamespace, ptr: _P, size: int) -> bytes:
    try:
        return ctypes.string_at(ptr, size)
    finally:
        lib.free(ptr)


def _check(lib: SimpleNamespace, rc: int, what: str) -> int:
    if rc < 0:
        raise SigningError(f"{what}: {_last_error(lib)}")
    return rc


# --- Box parsing ---------------------------------------------------------------------------


def scan(path: str | os.PathLike[str]) -> Layout:
    """The source's top-level boxes (one header read per box, plus the moov / moof / mfra /
    meta bodies); Unsupported for anything the fast path cannot reproduce exactly."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError as exc:
        raise Unsupported(f"cannot open: {exc.strerror}") from None
    try:
        stat = os.fstat(fd)
        size = stat.st_size
        boxes: list[Box] = []
        tables: dict[int, bytes] = {}
        table_bytes = 0
        pos = 0
        while pos < size:
            if len(boxes) >= _MAX_BOXES:
                raise Unsupported(f"more than {_MAX_BOXES} top-level boxes")
            box_size, kind, header = box_header(os.pread(fd, 16, pos), 0, size - pos, pos)
            if not boxes and kind != b"ftyp":
                raise Unsupported("the first box is not ftyp")
            if kind == b"uuid" and os.pread(fd, 16, pos + header) == C2PA_UUID:
                raise Unsupported("the source already carries a C2PA manifest")
            if kind in _TABLES:
                table_bytes += box_size
                if table_bytes > _MAX_TABLE:  # hostile or exotic: never hold hundreds of MB in memory
                    raise Unsupported(f"{kind.decode('latin-1')} boxes of more than {_MAX_TABLE} bytes")
                body = os.pread(fd, box_size, pos)
                if len(body) != box_size:
                    raise Unsupported("the source changed while being read")
                patch_offsets(bytearray(body), 0)  # shift 0: only refuses iloc / saio / malformed tables
                tables[pos] = body
            boxes.append(Box(kind, pos, box_size))
            pos += box_size
        if not boxes:
            raise Unsupported("empty file")
        return Layout(tuple(boxes), size, tables, file_identity(stat))
    except OSError as exc:
        raise Unsupported(f"cannot read: {exc.strerror}") from None
    finally:
        os.close(fd)


def file_identity(stat: os.stat_result) -> tuple[int, int, int, int]:
    return (stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns)


# --- Plan, write, hash, sign --------------------------------------------------------------


def prepare(builder: Any, fmt: str, layout: Layout) -> Plan:
    """The output plan for ``layout`` with ``builder``'s placeholder. Writes nothing; raises
    Unsupported when the library or the patched layout cannot take the fast path."""
    lib, cfmt = _lib(), fmt.encode()
    kind = ctypes.c_int(-1)
    if lib.builder_needs_placeholder(builder, cfmt) != 1:
        raise Unsupported(f"c2pa-rs does not use a placeholder for {fmt}")
    if lib.builder_hash_type(builder, cfmt, ctypes.byref(kind)) != 0 or kind.value != _BMFF_HASH:
        raise Unsupported(f"c2pa-rs does not use a BMFF hash for {fmt}")
    out = _P()
    size = _check(lib, lib.builder_placeholder(builder, cfmt, ctypes.byref(out)), "placeholder")
    placeholder = _take(lib, out, size)
    if len(placeholder) < 24 or placeholder[4:24] != b"uuid" + C2PA_UUID or box_header(placeholder, 0, size)[0] != size:
        raise Unsupported("c2pa-rs returned a placeholder that is not one C2PA uuid box")
    ftyp = layout.boxes[0]
    at = ftyp.offset + ftyp.size
    segments: list[tuple[int, int, bytes | None, int]] = [(0, ftyp.size, None, 0), (at, size, placeholder, 0)]
    for box in layout.boxes[1:]:
        if box.offset in layout.tables:
            patched = bytearray(layout.tables[box.offset])
            patch_offsets(patched, size)
            segments.append((box.offset + size, box.size, bytes(patched), 0))
        else:
            segments.append((box.offset + size, box.size, None, box.offset))
    return Plan(tuple(segments), layout.size + size, at, size)


class _VirtualOutput:
    """A read-only C2paStream over the plan: what the output file will hold, served from the
    source and memory, so hashing need not wait for (or re-read) the written file."""

    def __init__(self, lib: SimpleNamespace, plan: Plan, src_fd: int, failed: threading.Event) -> None:
        self._lib, self._plan, self._fd, self._failed = lib, plan, src_fd, failed
        self._starts = [seg[0] for seg in plan.segments]
        self._pos = 0
        self.interrupted: BaseException | None = None  # KeyboardInterrupt etc. caught in a callback
        # c2pa-rs calls these until release_stream: the references must outlive the stream.
        self._callbacks = (_READ_T(self._read), _SEEK_T(self._seek), _WRITE_T(self._write), _FLUSH_T(self._flush))
        self._ctx = ctypes.c_int(0)  # unused by the callbacks, but c2pa-rs wants a non-null context
        self.stream = lib.create_stream(ctypes.addressof(self._ctx), *(ctypes.cast(cb, _P) for cb in self._callbacks))
        if not self.stream:
            raise SigningError(f"c2pa_create_stream: {_last_error(lib)}")

    def _read(self, _ctx: Any, data: int, length: int) -> int:
        try:
            done = 0
            while done < length and self._pos < self._plan.size:
                if self._failed.is_set():  # the writer gave up: stop hashing too
                    return -1
                i = bisect.bisect_right(self._starts, self._pos) - 1
                out_off, seg_len, mem, src_off = self._plan.segments[i]
                skip = self._pos - out_off
                count = min(length - done, seg_len - skip)
                target = (ctypes.c_char * count).from_address(data + done)
                if mem is not None:
                    ctypes.memmove(target, mem[skip : skip + count], count)
                else:
                    advise_huge_pages(data + done, count)  # c2pa-rs reads the mdat in one call
                    count = os.preadv(self._fd, [memoryview(target).cast("B")], src_off + skip)
                    if count <= 0:
                        return -1
                self._pos += count
                done += count
            return done
        except Exception:  # nothing may cross into Rust: c2pa-rs sees a failed read
            return -1
        except BaseException as exc:  # Ctrl-C and the like: re-raised once c2pa-rs returns
            self.interrupted = exc
            return -1

    def _seek(self, _ctx: Any, offset: int, whence: int) -> int:
        base = (0, self._pos, self._plan.size)[whence] if whence in (0, 1, 2) else -1
        if base < 0 or base + offset < 0:
            return -1
        self._pos = base + offset
        return self._pos

    def _write(self, _ctx: Any, _data: int, _length: int) -> int:
        return -1

    def _flush(self, _ctx: Any) -> int:
        return 0

    def close(self) -> None:
        if self.stream:
            self._lib.release_stream(self.stream)
            self.stream = None


def _copy(src_fd: int, out_fd: int, src_off: int, length: int, out_off: int, stop: threading.Event) -> None:
    """Copy a byte range, in the kernel where it can (no user-space buffers)."""
    kernel = hasattr(os, "copy_file_range")
    while length > 0 and not stop.is_set():
        if kernel:
            try:
                done = os.copy_file_range(src_fd, out_fd, min(length, _COPY_CHUNK), src_off, out_off)
            except OSError as exc:
                if exc.errno not in (errno.EXDEV, errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
                    raise
                kernel = False
                continue
        else:
            chunk = os.pread(src_fd, min(length, _RW_CHUNK), src_off)
            done = os.pwrite(out_fd, chunk, out_off) if chunk else 0
        if done <= 0:
            raise OSError(errno.EIO, "the source shrank while it was being copied")
        src_off, out_off, length = src_off + done, out_off + done, length - done


def write_and_sign(builder: Any, fmt: str, plan: Plan, src_fd: int, out_fd: int) -> bytes:
    """Write the plan to ``out_fd`` (and fsync it) while c2pa-rs hashes it, sign, and put the
    signed manifest box over the placeholder (not fsynced: the caller's last step). Returns
    that box."""
    lib, cfmt = _lib(), fmt.encode()
    failed = threading.Event()
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            for out_off, length, mem, src_off in plan.segments:
                if failed.is_set():
                    return
                if mem is None:
                    _copy(src_fd, out_fd, src_off, length, out_off, failed)
                else:
                    _write_all(out_fd, mem, out_off)
            # Flush the media to disk now, while c2pa-rs is still hashing: the caller's fsync
            # after the manifest patch then has one small box left to write.
            if not failed.is_set():
                os.fsync(out_fd)
        except BaseException as exc:  # handed to the calling thread below
            errors.append(exc)
            failed.set()

    thread = threading.Thread(target=writer, name="c2pa-embed-writer", daemon=True)
    thread.start()
    rc = -1
    interrupted: BaseException | None = None
    try:
        stream = _VirtualOutput(lib, plan, src_fd, failed)
        try:
            rc = lib.builder_update_hash_from_stream(builder, cfmt, stream.stream)
            interrupted = stream.interrupted
        finally:
            stream.close()
    except BaseException:
        failed.set()
        raise
    finally:
        if rc < 0 or interrupted is not None:  # no point finishing a copy nobody will keep
            failed.set()
        # The writer uses the caller's descriptors: never return (and let them be closed and
        # reused) while it may still write. It stops at its next chunk once ``failed`` is set.
        while thread.is_alive():
            try:
                thread.join()
            except BaseException:
                failed.set()
    if interrupted is not None:
        raise interrupted
    if errors:
        raise errors[0]
    _check(lib, rc, "hashing the output")
    out = _P()
    size = _check(lib, lib.builder_sign_embeddable(builder, cfmt, ctypes.byref(out)), "signing")
    box = _take(lib, out, size)
    if size != plan.manifest_size:
        raise SigningError(f"the signed manifest ({size} bytes) does not fit its {plan.manifest_size}-byte placeholder")
    _write_all(out_fd, box, plan.manifest_at)
    if os.fstat(out_fd).st_size != plan.size:  # every segment landed, nothing beyond the plan
        raise OSError(errno.EIO, f"the output has {os.fstat(out_fd).st_size} bytes, expected {plan.size}")
    return box


def _write_all(fd: int, data: bytes, offset: int) -> None:
    """pwrite until all of ``data`` is written (a short write is legal, e.g. near a full disk)."""
    view = memoryview(data)
    while view:
        done = os.pwrite(fd, view, offset)
        if done <= 0:
            raise OSError(errno.EIO, "the output accepted no more bytes")
        view, offset = view[done:], offset + done


def manifest_store(box: bytes) -> bytes:
    """The JUMBF manifest store inside a C2PA uuid box (what ``Builder.sign`` returns)."""
    size, _, header = box_header(box, 0, len(box))
    pos = header + 16 + 4  # usertype, version and flags
    nul = box.find(b"\0", pos, size)
    if nul < 0:
        raise SigningError("malformed C2PA box: no purpose string")
    purpose, pos = box[pos:nul], nul + 1
    if purpose == b"manifest":
        pos += 8  # offset of the first auxiliary (merkle) box
    store_size = box_header(box, pos, size)[0]
    return box[pos : pos + store_size]
