"""Size-limited streaming uploads into ``settings.uploads_path``, typed by their magic bytes.

The multipart body is parsed as it arrives and the file part goes straight to a 0600 file in
the uploads folder (never a served path, never the system temp dir); the upload stops with 413
as soon as it passes the limit. The type comes from the first bytes, never from the file name;
the stored name is random and its extension is the sniffed one (the C2PA reader keys on it).

Everything else in the body is capped as it streams, before it costs memory: at most
``MAX_PARTS`` parts, ``MAX_FORM_BYTES`` of text fields in all (``_MAX_FIELD`` each),
``MAX_PART_HEADERS`` headers of ``MAX_HEADER_BYTES`` per part, a boundary of at most 70
characters (RFC 2046), and a body no larger than the file limit plus that overhead. Each cap
answers 400 or 413 with its own code; malformed framing answers 400, never 500.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect, Request

from detectors.provenance.formats import SUFFIX_FOR, format_from_bytes
from governance.service.api.errors import ApiError

if TYPE_CHECKING:  # pragma: no cover
    from python_multipart.multipart import MultipartCallbacks  # a TypedDict defined for type checkers only

__all__ = ["Upload", "receive_upload", "sniff", "VIDEO_TYPES", "MEDIA_TYPES", "VERIFY_TYPES", "multipart_openapi"]

VIDEO_TYPES = frozenset({"video/mp4", "video/quicktime", "video/webm", "video/x-matroska", "video/x-msvideo"})
IMAGE_TYPES = frozenset({"image/png", "image/jpeg"})
MEDIA_TYPES = VIDEO_TYPES | IMAGE_TYPES
# Verification reads credentials from anything c2pa-rs reads: images of every kind, audio, a
# bare manifest store (and still the videos).
VERIFY_TYPES = MEDIA_TYPES | frozenset(SUFFIX_FOR) - {"video/avi"}
_EXT = {
    "video/mp4": ".mp4",
    "video/quicktime": ".mov",
    "video/webm": ".webm",
    "video/x-matroska": ".mkv",
    "video/x-msvideo": ".avi",
    "image/png": ".png",
    "image/jpeg": ".jpg",
}
_MAX_FIELD = 4096  # text fields (title, owner, …) are short
MAX_PARTS = 32  # the file and a handful of text fields; a form with thousands of parts is an attack
MAX_FORM_BYTES = 64 * 1024  # all text fields together
MAX_PART_HEADERS = 8  # the parser's own cap, pinned here (Content-Disposition and Content-Type suffice)
MAX_HEADER_LINE = 4096 + 128  # one header line, also enforced by the parser (400 bad-multipart)
MAX_HEADER_BYTES = 8 * 1024  # one part's header block (names and values)
MAX_BOUNDARY = 70  # RFC 2046 section 5.1.1
_BOUNDARY = re.compile(rb"^[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]$")
_SAFE_DECLARED = re.compile(
    r"^(application/octet-stream|application/c2pa|video/[\w.+-]+|image/[\w.+-]+|audio/[\w.+-]+)$"
)


def sniff(head: bytes) -> str | None:
    """The media type from the first bytes of a file, or None when it is none we accept."""
    if len(head) >= 12 and head[4:8] == b"ftyp":
        brand = head[8:12]
        return "video/quicktime" if brand == b"qt  " else "video/mp4"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "video/webm" if b"webm" in head[:64] else "video/x-matroska"
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "video/x-msvideo"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    found = format_from_bytes(head)  # the rest of what verification reads (WebP, HEIC, audio, .c2pa, ...)
    return found.mime if found is not None else None


@dataclass
class Upload:
    path: Path
    media_type: str
    size: int
    filename: str | None
    fields: dict[str, str] = field(default_factory=dict)


class _Parts:
    """Callbacks for the streaming multipart parser: one file part to disk, small text fields."""

    def __init__(self, file_field: str, target: Path, max_bytes: int) -> None:
        self.file_field = file_field
        self.target = target
        self.max_bytes = max_bytes
        self.fields: dict[str, str] = {}
        self.size = 0
        self.head = b""
        self.filename: str | None = None
        self.declared: str | None = None
        self.file_done = False
        self._handle: BinaryIO | None = None
        self._header_name = b""
        self._header_value = b""
        self._headers: dict[bytes, bytes] = {}
        self._name: str | None = None
        self._buffer = bytearray()
        self._seen_file = False
        self.parts = 0
        self.form_bytes = 0
        self._header_count = 0
        self._header_bytes = 0

    def callbacks(self) -> MultipartCallbacks:
        return {
            "on_part_begin": self._part_begin,
            "on_part_data": self._part_data,
            "on_part_end": self._part_end,
            "on_header_field": lambda d, s, e: self._acc("_header_name", d[s:e]),
            "on_header_value": lambda d, s, e: self._acc("_header_value", d[s:e]),
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
        }

    def _acc(self, attr: str, chunk: bytes) -> None:
        self._header_bytes += len(chunk)
        if self._header_bytes > MAX_HEADER_BYTES:
            raise ApiError(413, "part-headers-too-large", f"a multipart part's headers exceed {MAX_HEADER_BYTES} bytes")
        setattr(self, attr, getattr(self, attr) + chunk)

    def _part_begin(self) -> None:
        self.parts += 1
        if self.parts > MAX_PARTS:
            raise ApiError(413, "too-many-parts", f"the form has more than {MAX_PARTS} parts")
        self._headers, self._name, self._buffer = {}, None, bytearray()
        self._header_count, self._header_bytes = 0, 0

    def _header_end(self) -> None:
        self._header_count += 1
        if self._header_count > MAX_PART_HEADERS:
            raise ApiError(413, "part-headers-too-large", f"a multipart part has more than {MAX_PART_HEADERS} headers")
        self._headers[self._header_name.strip().lower()] = self._header_value.strip()
        self._header_name, self._header_value = b"", b""

    def _headers_finished(self) -> None:
        _disp, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        name = options.get(b"name")
        self._name = name.decode("utf-8", "replace") if name is not None else None
        if self._name == self.file_field:
            if self._seen_file:
                raise ApiError(422, "invalid-request", f"more than one {self.file_field!r} part")
            self._seen_file = True
            raw_name = options.get(b"filename")
            self.filename = raw_name.decode("utf-8", "replace")[:255] if raw_name else None
            declared = self._headers.get(b"content-type", b"").decode("latin-1").split(";")[0].strip().lower()
            self.declared = declared or None
            fd = os.open(self.target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            self._handle = os.fdopen(fd, "wb")

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        chunk = data[start:end]
        if self._name == self.file_field and self._handle is not None:
            self.size += len(chunk)
            if self.size > self.max_bytes:
                raise ApiError(413, "too-large", f"upload exceeds the limit of {self.max_bytes} bytes")
            if len(self.head) < 64:
                self.head += chunk[: 64 - len(self.head)]
            self._handle.write(chunk)
        else:
            self._buffer += chunk
            self.form_bytes += len(chunk)
            if len(self._buffer) > _MAX_FIELD:
                raise ApiError(413, "too-large", f"form field {self._name!r} exceeds {_MAX_FIELD} bytes")
            if self.form_bytes > MAX_FORM_BYTES:
                raise ApiError(413, "too-large", f"the form's text fields exceed {MAX_FORM_BYTES} bytes in all")

    def _part_end(self) -> None:
        if self._name == self.file_field and self._handle is not None:
            self._handle.close()
            self._handle = None
            self.file_done = True
        elif self._name:
            self.fields[self._name] = self._buffer.decode("utf-8", "replace")

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None


@asynccontextmanager
async def receive_upload(
    request: Request,
    *,
    uploads_path: Path,
    max_bytes: int,
    allowed: frozenset[str] = VIDEO_TYPES,
    file_field: str = "file",
) -> AsyncIterator[Upload]:
    """Stream the multipart ``file_field`` to disk; the file is deleted when the block exits."""
    content_type = request.headers.get("content-type", "")
    ctype, options = parse_options_header(content_type)
    if ctype != b"multipart/form-data" or not options.get(b"boundary"):
        raise ApiError(415, "unsupported-media-type", "send multipart/form-data with a 'file' field")
    boundary = options[b"boundary"]
    if len(boundary) > MAX_BOUNDARY or not _BOUNDARY.match(boundary):
        raise ApiError(
            400,
            "bad-multipart",
            f"the multipart boundary must be 1 to {MAX_BOUNDARY} characters "
            "allowed by RFC 2046 (letters, digits, '()+_,-./:=? )",
        )
    # The file, the text fields, and each part's headers and delimiters: nothing else may arrive.
    max_body = max_bytes + MAX_FORM_BYTES + MAX_PARTS * (MAX_HEADER_BYTES + 2 * MAX_BOUNDARY + 16)
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > max_body:
        raise ApiError(413, "too-large", f"upload exceeds the limit of {max_bytes} bytes")

    uploads_path.mkdir(parents=True, exist_ok=True)
    token = uuid.uuid4().hex
    part_path = uploads_path / f"{token}.part"
    parts = _Parts(file_field, part_path, max_bytes)
    final: Path | None = None
    try:
        received = 0
        try:
            parser = MultipartParser(
                boundary, parts.callbacks(), max_header_count=MAX_PART_HEADERS, max_header_size=MAX_HEADER_LINE
            )
            async for chunk in request.stream():
                received += len(chunk)
                if received > max_body:
                    raise ApiError(413, "too-large", f"upload exceeds the limit of {max_bytes} bytes")
                parser.write(chunk)
            parser.finalize()
        except ClientDisconnect:
            raise ApiError(400, "client-disconnected", "the client went away during the upload") from None
        except ApiError:
            raise
        except Exception as exc:  # malformed multipart framing
            raise ApiError(400, "bad-multipart", f"malformed multipart body: {exc}") from None
        if not parts._seen_file:
            raise ApiError(422, "invalid-request", f"missing multipart field {file_field!r}")
        if not parts.file_done:
            raise ApiError(400, "truncated", "the multipart body ended inside the file part")
        if parts.size == 0:
            raise ApiError(422, "empty-file", "the uploaded file is empty")
        if parts.declared and not _SAFE_DECLARED.match(parts.declared):
            raise ApiError(415, "unsupported-media-type", f"declared content type {parts.declared!r} is not media")
        media_type = sniff(parts.head)
        if media_type is None or media_type not in allowed:
            kinds = ", ".join(sorted(allowed))
            raise ApiError(415, "unsupported-media-type", f"the file's bytes are not one of: {kinds}")
        final = part_path.with_name(token + (_EXT.get(media_type) or SUFFIX_FOR.get(media_type, ".bin")))
        os.replace(part_path, final)
        yield Upload(final, media_type, parts.size, parts.filename, parts.fields)
    finally:
        parts.close()
        part_path.unlink(missing_ok=True)
        if final is not None:
            final.unlink(missing_ok=True)


def multipart_openapi(*, required: tuple[str, ...] = ("file",), text_fields: tuple[str, ...] = ()) -> dict:
    """The OpenAPI request body for routes that parse their multipart stream themselves."""
    props: dict = {"file": {"type": "string", "format": "binary"}}
    props.update({name: {"type": "string", "maxLength": 500} for name in text_fields})
    return {
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {"schema": {"type": "object", "properties": props, "required": list(required)}}
            },
        }
    }
