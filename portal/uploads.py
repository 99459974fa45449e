"""File uploads are validated before anything is written: type sniffed, size limited; the rows of a
table file are the import pipeline's (`portal.imports`), which reports every problem with
`RowError`s in `UploadRejected`, so the person can fix the whole file at once.

This module is the one place that opens an uploaded file. Whatever a third-party reader (pandas,
openpyxl, zipfile, Pillow) raises on a file it cannot read becomes `UploadRejected` with one
message pattern, "The file could not be read as XLSX: <why>." (`unreadable`): a broken file is
the sender's to fix, never a server error. A ZIP-based file (XLSX, DOCX, PPTX) is checked against
its central directory before any reader opens it (`zip_inspect`), and an image's pixel count
before it is decoded (`open_image`), so a small file that unpacks to gigabytes is refused unread
(`UploadTooLarge`).
"""

from __future__ import annotations

import io
import logging
import re
import struct
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

import filetype
import pandas as pd
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile

if TYPE_CHECKING:
    from PIL.Image import Image as PILImage

logger = logging.getLogger(__name__)

PDF, PNG, JPEG, CSV, XLSX, DOCX, PPTX = "pdf", "png", "jpeg", "csv", "xlsx", "docx", "pptx"
ZIP = "zip"
_OFFICE = {
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": XLSX,
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": DOCX,
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": PPTX,
}
_BY_MIME = {"application/pdf": PDF, "image/png": PNG, "image/jpeg": JPEG, **_OFFICE}


_ZIP_BASED = {XLSX, DOCX, PPTX}
#: The part without which a file is not what it claims. pandas looks for xl/workbook.xml itself;
#: Word and PowerPoint may name their main part differently, so for them only the package's
#: content-types part, which every Office file has, is required.
_REQUIRED_PART = {XLSX: "xl/workbook.xml", DOCX: "[Content_Types].xml", PPTX: "[Content_Types].xml"}
_DAMAGED = {
    XLSX: "it is damaged or not a real workbook",
    DOCX: "it is damaged or not a real Word document",
    PPTX: "it is damaged or not a real PowerPoint presentation",
    ZIP: "it is damaged or not a real ZIP archive",
    CSV: "it is damaged or not a real CSV file",
    PDF: "it is damaged or not a real PDF",
    PNG: "it is damaged or not a real PNG image",
    JPEG: "it is damaged or not a real JPEG image",
}
_NOT_UTF8 = "it is not UTF-8 text; save it as “CSV UTF-8” and upload it again"
LEGACY_OFFICE = (
    "it is password-protected or saved in the old Office 97–2003 format; save it without a password "
    "in the current format and upload it again"
)
#: Small members are not held to the compression ratio: a part of repeated XML tags (styles, an
#: empty sheet) legitimately compresses far beyond it, and a small part cannot exhaust memory.
_RATIO_FLOOR_BYTES = 1024 * 1024
#: Members are inflated this much at a time while they are checked.
_CHUNK_BYTES = 1024 * 1024
#: A generous size of one central-directory entry (46 bytes, the name and extra fields).
_DIRECTORY_ENTRY_BYTES = 512
_END_OF_DIRECTORY = b"PK\x05\x06"
_END_OF_DIRECTORY_BYTES = 22
_MAX_ZIP_COMMENT_BYTES = 65_535
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Office 97–2003 files and encrypted Office files
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_CSV_FIELDS = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")
_CSV_OPEN_QUOTE = re.compile(r"EOF inside string starting at row (\d+)")


@dataclass(frozen=True)
class RowError:
    """One problem of a file: its line (the header is 1), column, reason and the value as written."""

    row: int | None
    column: str | None
    message: str
    value: str | None = None

    def as_dict(self) -> dict[str, Any]:
        error = {"row": self.row, "column": self.column, "message": self.message}
        if self.value is not None:
            error["value"] = self.value
        return error

    def __str__(self) -> str:
        where = []
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column {self.column!r}")
        return f"{', '.join(where)}: {self.message}" if where else self.message


class UploadRejected(Exception):
    def __init__(self, message: str, errors: list[RowError] | None = None):
        super().__init__(message)
        self.message = message
        self.errors = errors or []


class UploadTooLarge(UploadRejected):
    """The file is, or unpacks to, more than the limits allow; callers may word this apart from
    a damaged file (the sender should make it smaller, not export it again)."""


# --- The one rejection of an unreadable file --------------------------------------------------------


def unreadable(kind: str, reason: str | None = None) -> UploadRejected:
    """The rejection of a file that cannot be read as `kind`, saying why when we know."""
    return UploadRejected(_unreadable_message(kind, reason))


def _unreadable_message(kind: str, reason: str | None) -> str:
    return f"The file could not be read as {kind.upper()}: {reason or _DAMAGED.get(kind, 'it is damaged')}."


@contextmanager
def reading(kind: str) -> Iterator[None]:
    """Around a third-party read call only: anything it raises becomes the clear rejection.

    pandas, openpyxl, zipfile, lxml and Pillow raise nearly every exception type on a malformed
    file (OSError, KeyError, BadZipFile, ValueError, TypeError, EOFError, XML errors…), so no
    narrower list holds; keeping the block to the library call keeps our own bugs visible.
    """
    try:
        yield
    except UploadRejected:
        raise
    except Exception as exc:
        logger.info("Upload unreadable as %s: %s: %s", kind, type(exc).__name__, exc)
        raise unreadable(kind, _known_reason(kind, exc)) from exc


def _known_reason(kind: str, exc: Exception) -> str | None:
    """A more specific reason than "damaged" for the failures a person can fix themselves."""
    if kind != CSV:
        return None
    if isinstance(exc, UnicodeDecodeError):
        return _NOT_UTF8
    if isinstance(exc, pd.errors.EmptyDataError):
        return "it has no header row"
    if isinstance(exc, pd.errors.ParserError):
        if fields := _CSV_FIELDS.search(str(exc)):
            expected, line, found = fields.groups()
            return f"line {line} has {found} cells where the header has {expected}"
        if quote := _CSV_OPEN_QUOTE.search(str(exc)):
            # pandas counts that row from 0; a spreadsheet (and the person) counts lines from 1.
            line = int(quote.group(1)) + 1
            return f"the quoted cell that starts on line {line} never ends (is the file cut off?)"
    return None


def _megabytes(size: int) -> str:
    return f"{size / 1_048_576:,.4g} MB"


def _limit(name: str) -> int:
    """A limit from settings (PORTAL_UPLOAD_MAX_*), read per call so tests can lower it."""
    return getattr(settings, name)


# --- Type and size ------------------------------------------------------------------------------------


def sniff(head: bytes) -> str | None:
    """The file's real type from its first bytes (never from its name or declared type)."""
    kind = filetype.guess(head)
    if kind is not None:
        return _BY_MIME.get(kind.mime)
    try:
        head.decode("utf-8-sig")
    except UnicodeDecodeError:
        # A multi-byte character may be cut at the end of the sample; retry without it.
        try:
            head[:-3].decode("utf-8-sig")
        except UnicodeDecodeError:
            return None
    return CSV


def check_size(upload: UploadedFile, *, max_bytes: int | None = None) -> None:
    """Refuse an empty upload, or one over `max_bytes` (PORTAL_UPLOAD_MAX_BYTES by default)."""
    limit = max_bytes or settings.PORTAL_UPLOAD_MAX_BYTES
    if upload.size == 0:
        raise UploadRejected("The file is empty.")
    if upload.size > limit:
        raise UploadTooLarge(
            f"The file is {upload.size / 1_048_576:.1f} MB; the limit is {limit / 1_048_576:.0f} MB."
        )


def validate_upload(upload: UploadedFile, *, allowed: set[str], max_bytes: int | None = None) -> str:
    """Check size, sniffed type and, for a ZIP-based type, the archive; return the type.

    Nothing has been written yet, and no reader has opened the file.
    """
    check_size(upload, max_bytes=max_bytes)
    upload.seek(0)
    head = upload.read(8192)
    upload.seek(0)
    kind = sniff(head)
    if kind not in allowed:
        raise _wrong_type(kind, head, allowed)
    if kind in _ZIP_BASED:
        zip_inspect(upload, kind)
    return kind


def _wrong_type(kind: str | None, head: bytes, allowed: set[str]) -> UploadRejected:
    """Why a file of an unaccepted type is refused; for the two look-alikes people send by
    mistake (a protected or old Office file, UTF-16 text) what to do instead."""
    office = allowed & _ZIP_BASED
    if kind is None and office and head.startswith(OLE_MAGIC):
        return unreadable("/".join(sorted(office)), LEGACY_OFFICE)
    if kind is None and CSV in allowed and head.startswith(_UTF16_BOMS):
        return unreadable(CSV, _NOT_UTF8)
    found = kind.upper() if kind else "an unrecognised binary file"
    expected = ", ".join(sorted(k.upper() for k in allowed))
    return UploadRejected(f"The file is {found}; expected {expected}.")


# --- ZIP-based files ----------------------------------------------------------------------------------


def zip_inspect(upload: IO[bytes], kind: str = ZIP) -> None:
    """Refuse a ZIP-based upload that could exhaust memory, or is not the `kind` it claims to be.

    The central directory decides before anything is inflated: member count, unsafe names, the
    total declared size and each member's compression ratio. Then every member is inflated once,
    a chunk at a time, so one that is corrupt or inflates past what it declares is refused here
    and not inside a reader whose memory use we do not control. The position is left at 0.
    """
    try:
        _check_directory_size(upload, kind)
        upload.seek(0)
        with reading(kind):
            archive = zipfile.ZipFile(upload)
        with archive:
            members = archive.infolist()
            _check_members(members, kind)
            _check_required_part(members, kind)
            _inflate_members(archive, members, kind)
    finally:
        upload.seek(0)


def _check_directory_size(upload: IO[bytes], kind: str) -> None:
    """Refuse a central directory too large for the member limit before zipfile parses it.

    zipfile builds an object per entry while it opens the archive, so millions of tiny entries
    would cost memory before the member count could be checked.
    """
    upload.seek(0, io.SEEK_END)
    end = upload.tell()
    start = max(0, end - _END_OF_DIRECTORY_BYTES - _MAX_ZIP_COMMENT_BYTES)
    upload.seek(start)
    tail = upload.read(end - start)
    at = tail.rfind(_END_OF_DIRECTORY)
    if at < 0 or len(tail) - at < _END_OF_DIRECTORY_BYTES:
        raise unreadable(kind)
    (directory_bytes,) = struct.unpack_from("<I", tail, at + 12)
    max_members = _limit("PORTAL_UPLOAD_MAX_ZIP_MEMBERS")
    if directory_bytes > max_members * _DIRECTORY_ENTRY_BYTES:
        raise UploadTooLarge(
            _unreadable_message(kind, f"it has more parts than the {max_members:,} accepted")
        )


def _check_members(members: list[zipfile.ZipInfo], kind: str) -> None:
    max_members = _limit("PORTAL_UPLOAD_MAX_ZIP_MEMBERS")
    if len(members) > max_members:
        raise UploadTooLarge(
            _unreadable_message(kind, f"it has {len(members):,} parts; at most {max_members:,} are accepted")
        )
    if any(_unsafe_name(info.filename) for info in members):
        raise unreadable(kind, "it contains a part whose name is an absolute path or leads out with '..'")
    unpacked = sum(info.file_size for info in members)
    max_unpacked = _limit("PORTAL_UPLOAD_MAX_UNPACKED_BYTES")
    if unpacked > max_unpacked:
        raise UploadTooLarge(
            _unreadable_message(
                kind, f"it unpacks to {_megabytes(unpacked)}; at most {_megabytes(max_unpacked)} are accepted"
            )
        )
    max_ratio = _limit("PORTAL_UPLOAD_MAX_COMPRESSION_RATIO")
    for info in members:
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size >= _RATIO_FLOOR_BYTES and ratio > max_ratio:
            raise UploadTooLarge(
                _unreadable_message(
                    kind,
                    f"a part of it is compressed {ratio:,.0f}:1, beyond the {max_ratio}:1 of real "
                    "documents (a zip bomb?)",
                )
            )


def _unsafe_name(name: str) -> bool:
    """An absolute path (`/x`, `\\x`, `C:x`) or one with a `..` step: never part of a real
    document, and dangerous to anything that unpacks the archive to disk."""
    path = name.replace("\\", "/")
    return path.startswith("/") or re.match(r"[A-Za-z]:", path) is not None or ".." in path.split("/")


def _check_required_part(members: list[zipfile.ZipInfo], kind: str) -> None:
    required = _REQUIRED_PART.get(kind)
    if required and required not in {info.filename for info in members}:
        raise unreadable(kind)


def _inflate_members(archive: zipfile.ZipFile, members: list[zipfile.ZipInfo], kind: str) -> None:
    """Inflate every member once, at most `_CHUNK_BYTES` in memory, counting the bytes.

    zipfile stops a member at the size the directory declares and then fails its CRC, so one that
    inflates past its declared size is refused as damaged; the count still bounds the total.
    """
    budget = _limit("PORTAL_UPLOAD_MAX_UNPACKED_BYTES")
    for info in members:
        if info.is_dir():
            continue
        budget -= _inflated_size(archive, info, kind, ceiling=budget)
        if budget < 0:
            reason = f"it unpacks to more than {_megabytes(_limit('PORTAL_UPLOAD_MAX_UNPACKED_BYTES'))}"
            raise UploadTooLarge(_unreadable_message(kind, reason))


def _inflated_size(archive: zipfile.ZipFile, info: zipfile.ZipInfo, kind: str, *, ceiling: int) -> int:
    """The bytes `info` inflates to, reading no further than one chunk past `ceiling`."""
    total = 0
    with reading(kind):
        stream = archive.open(info)
    with stream:
        while total <= ceiling:
            with reading(kind):
                chunk = stream.read(_CHUNK_BYTES)
            if not chunk:
                break
            total += len(chunk)
    return total


# --- Images -----------------------------------------------------------------------------------------


def open_image(data: bytes, kind: str) -> PILImage:
    """The decoded image, or UploadRejected (UploadTooLarge past the pixel limit).

    The pixel count is checked before the image is decoded: a PNG of a few kilobytes can declare
    a canvas that takes gigabytes once loaded.
    """
    from PIL import Image  # noqa: PLC0415 - only image uploads need Pillow

    with reading(kind), _pixel_bombs_refused(kind), Image.open(io.BytesIO(data)) as probe:
        size = probe.size
        probe.verify()
    _check_pixels(size, kind)
    with reading(kind), _pixel_bombs_refused(kind):
        image = Image.open(io.BytesIO(data))
        image.load()
    return image


@contextmanager
def _pixel_bombs_refused(kind: str) -> Iterator[None]:
    """Pillow's own decompression-bomb refusal (an error past twice its limit, a warning past it,
    which `-W error` raises) as the too-large rejection instead of "damaged"."""
    from PIL import Image  # noqa: PLC0415 - only image uploads need Pillow

    try:
        yield
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        reason = "it has far more pixels than a document needs"
        raise UploadTooLarge(_unreadable_message(kind, reason)) from exc


def _check_pixels(size: tuple[int, int], kind: str) -> None:
    width, height = size
    limit = _limit("PORTAL_UPLOAD_MAX_IMAGE_PIXELS")
    if width * height > limit:
        raise UploadTooLarge(
            _unreadable_message(
                kind,
                f"it is {width:,} × {height:,} pixels, more than the {limit / 1_000_000:,.4g} megapixels "
                "accepted; scan or export it at a lower resolution",
            )
        )
