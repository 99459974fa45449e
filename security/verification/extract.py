"""Text extraction for assisted verification (spec/accounts.md §4.2 step 1).

PDF: the text layer of every page (pypdf), the page count and the producer tag. A page without a
text layer is read by OCR when a packaged engine (`tesseract`) is on PATH; otherwise it stays empty
and the assessment says why. Images (PNG/JPEG): Pillow verifies the file and reads its resolution;
their text comes only from OCR.

`DocumentUnreadable` is raised for files nothing can be read from at all (corrupt, encrypted, no
pages, not a PDF/PNG/JPEG); its message tells the person what to do.
"""

from __future__ import annotations

import io
import logging
import shutil
import subprocess
from dataclasses import dataclass, field

#: Seconds one OCR run of one page may take.
OCR_TIMEOUT_SECONDS = 30
#: Images are rendered at this resolution for OCR when they carry none.
OCR_DEFAULT_DPI = 300

PDF = "pdf"
PNG = "png"
JPEG = "jpeg"
_FILE_TYPES = {
    "pdf": PDF,
    "application/pdf": PDF,
    "png": PNG,
    "image/png": PNG,
    "jpg": JPEG,
    "jpeg": JPEG,
    "image/jpeg": JPEG,
    "image/jpg": JPEG,
}


class DocumentUnreadable(Exception):
    """Nothing can be read from the file; `message` says why and what to do."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Extraction:
    pages: list[str]
    page_count: int
    ocr_used: bool
    #: Lowest OCR confidence (0–100) over the pages read by OCR; None when no page was.
    ocr_confidence: float | None
    producer: str
    image_dpi: int | None
    file_type: str = PDF
    #: Per page: the OCR confidence of that page, None for a text-layer (or unread) page.
    page_ocr_confidence: tuple[float | None, ...] = field(default_factory=tuple)
    #: Pages that had no text layer and could not be read because no OCR engine is installed.
    pages_without_ocr: tuple[int, ...] = field(default_factory=tuple)

    @property
    def text(self) -> str:
        return "\n".join(self.pages)


def file_kind(data: bytes, file_type: str = "") -> str:
    """`pdf`, `png` or `jpeg` from the file's first bytes (the declared type only names it in
    the error)."""
    if data[:5] == b"%PDF-" or (b"%PDF-" in data[:1024]):
        return PDF
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return PNG
    if data[:3] == b"\xff\xd8\xff":
        return JPEG
    declared = _FILE_TYPES.get((file_type or "").strip().lower().lstrip("."))
    if declared == PDF:
        raise DocumentUnreadable(
            "The file is not a valid PDF; download it again from the issuer and upload it."
        )
    if declared in (PNG, JPEG):
        raise DocumentUnreadable(
            f"The file is not a valid {declared.upper()} image; export the scan again and upload it."
        )
    raise DocumentUnreadable("Only PDF, PNG and JPEG files can be assessed; upload the document as a PDF.")


def extract(data: bytes, file_type: str) -> Extraction:
    """Per-page text, page count, producer and resolution of a PDF, PNG or JPEG file."""
    if not data:
        raise DocumentUnreadable("The file is empty; upload the document again.")
    kind = file_kind(data, file_type)
    if kind == PDF:
        return _extract_pdf(data)
    return _extract_image(data, kind)


# --- PDF ------------------------------------------------------------------------------------------


def _extract_pdf(data: bytes) -> Extraction:
    from pypdf import PdfReader  # noqa: PLC0415 - heavy; only when a PDF is assessed
    from pypdf.errors import DependencyError, FileNotDecryptedError, PdfReadError  # noqa: PLC0415

    damaged = (
        "The PDF is damaged and cannot be read; download it again from the issuer and upload the new copy."
    )
    password = "The PDF is password-protected; upload it without a password."
    # pypdf logs every repair it attempts on a damaged file; the message we raise says it all.
    pypdf_logger = logging.getLogger("pypdf")
    level = pypdf_logger.level
    pypdf_logger.setLevel(logging.ERROR)
    try:
        try:
            reader = PdfReader(io.BytesIO(data))
            if reader.is_encrypted:
                # An owner password alone (empty user password) still opens; anything else doesn't.
                try:
                    if not reader.decrypt(""):
                        raise DocumentUnreadable(password)
                except (FileNotDecryptedError, DependencyError, NotImplementedError) as exc:
                    raise DocumentUnreadable(password) from exc
            page_count = len(reader.pages)
        except DocumentUnreadable:
            raise
        except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
            raise DocumentUnreadable(damaged) from exc
        except Exception as exc:  # noqa: BLE001 - pypdf raises many kinds on broken files
            raise DocumentUnreadable(damaged) from exc
        if page_count == 0:
            raise DocumentUnreadable("The PDF has no pages; upload the complete document.")

        producer = _pdf_producer(reader)
        pages: list[str] = []
        confidences: list[float | None] = []
        without_ocr: list[int] = []
        tesseract = shutil.which("tesseract")
        for number, page in enumerate(reader.pages, start=1):
            try:
                text = _page_text(page)
            except Exception as exc:  # noqa: BLE001 - a broken content stream
                raise DocumentUnreadable(damaged) from exc
            confidence: float | None = None
            if not text.strip():
                images = _page_images(page)
                if images and tesseract:
                    text, confidence = _ocr_images(tesseract, images)
                elif images:
                    without_ocr.append(number)
            pages.append(text)
            confidences.append(confidence)
    finally:
        pypdf_logger.setLevel(level)
    read_by_ocr = [c for c in confidences if c is not None]
    return Extraction(
        pages=pages,
        page_count=page_count,
        ocr_used=bool(read_by_ocr),
        ocr_confidence=min(read_by_ocr) if read_by_ocr else None,
        producer=producer,
        image_dpi=None,
        file_type=PDF,
        page_ocr_confidence=tuple(confidences),
        pages_without_ocr=tuple(without_ocr),
    )


def _page_text(page) -> str:
    """The page's text in layout mode: columns stay apart (plain mode glues a right-hand column's
    words onto the left-hand line: "20.01.2025Leopoldstraße 12"); blank lines dropped."""
    try:
        text = page.extract_text(extraction_mode="layout") or ""
    except Exception:  # noqa: BLE001 - layout mode fails on some fonts; plain mode still reads them
        text = page.extract_text() or ""
    return "\n".join(line.rstrip() for line in text.splitlines() if line.strip())


def _pdf_producer(reader) -> str:
    """Producer and creator tags joined ("Creator / Producer"), "" when there are none."""
    try:
        metadata = reader.metadata
    except Exception:  # noqa: BLE001 - a broken info dictionary is not a reason to refuse
        return ""
    if not metadata:
        return ""
    values = []
    for key in ("/Creator", "/Producer"):
        value = metadata.get(key)
        if value:
            text = str(value).strip()
            if text and text not in values:
                values.append(text)
    return " / ".join(values)


def _page_images(page) -> list:
    try:
        return [image.image for image in page.images if image.image is not None]
    except Exception:  # noqa: BLE001 - an undecodable image is an unread page, not an error
        return []


# --- Images ---------------------------------------------------------------------------------------


def _extract_image(data: bytes, kind: str) -> Extraction:
    # portal.uploads opens every uploaded image: pixel limit first, any Pillow failure a rejection.
    from portal.uploads import UploadRejected, UploadTooLarge, open_image  # noqa: PLC0415

    try:
        image = open_image(data, kind)
    except UploadTooLarge as exc:
        raise DocumentUnreadable(exc.message) from exc
    except UploadRejected as exc:
        raise DocumentUnreadable(
            f"The {kind.upper()} image is damaged and cannot be read; scan the document again and upload it."
        ) from exc
    dpi = _image_dpi(image)
    producer = _image_software(image)
    tesseract = shutil.which("tesseract")
    if tesseract:
        text, confidence = _ocr_images(tesseract, [image])
        return Extraction(
            pages=[text],
            page_count=1,
            ocr_used=True,
            ocr_confidence=confidence,
            producer=producer,
            image_dpi=dpi,
            file_type=kind,
            page_ocr_confidence=(confidence,),
        )
    return Extraction(
        pages=[""],
        page_count=1,
        ocr_used=False,
        ocr_confidence=None,
        producer=producer,
        image_dpi=dpi,
        file_type=kind,
        page_ocr_confidence=(None,),
        pages_without_ocr=(1,),
    )


def _image_dpi(image) -> int | None:
    dpi = image.info.get("dpi")
    if dpi:
        try:
            values = [float(v) for v in (dpi if isinstance(dpi, tuple | list) else (dpi,))]
        except (TypeError, ValueError):
            return None
        if values and min(values) > 0:
            return round(min(values))
    return None


def _image_software(image) -> str:
    software = image.info.get("Software") or image.info.get("software") or ""
    if not software:
        try:
            software = image.getexif().get(0x0131, "")  # EXIF "Software"
        except Exception:  # noqa: BLE001
            software = ""
    return str(software).strip()


# --- OCR ------------------------------------------------------------------------------------------


def ocr_available() -> bool:
    return shutil.which("tesseract") is not None


def _ocr_images(tesseract: str, images: list) -> tuple[str, float]:
    """Text of the images (one after the other) and their mean word confidence (0–100)."""
    texts: list[str] = []
    confidences: list[float] = []
    for image in images:
        text, words = _ocr_one(tesseract, image)
        texts.append(text)
        confidences.extend(words)
    confidence = sum(confidences) / len(confidences) if confidences else 0.0
    return "\n".join(t for t in texts if t), round(confidence, 1)


def _ocr_one(tesseract: str, image) -> tuple[str, list[float]]:
    """Run `tesseract - - tsv` on one image; text rebuilt line by line, word confidences."""
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="PNG", dpi=image.info.get("dpi") or (OCR_DEFAULT_DPI,) * 2)
    try:
        result = subprocess.run(  # noqa: S603 - fixed argv, the binary found on PATH
            [tesseract, "stdin", "stdout", "tsv"],
            input=buffer.getvalue(),
            capture_output=True,
            timeout=OCR_TIMEOUT_SECONDS,
            check=False,
        )
    except (subprocess.TimeoutExpired, OSError):
        return "", []
    if result.returncode != 0:
        return "", []
    return parse_tesseract_tsv(result.stdout.decode("utf-8", "replace"))


def parse_tesseract_tsv(tsv: str) -> tuple[str, list[float]]:
    """Tesseract's TSV (level, page, block, par, line, word, left, top, width, height, conf, text)
    to (text with one line per OCR line, confidences of the words)."""
    lines: dict[tuple[str, str, str, str], list[str]] = {}
    confidences: list[float] = []
    for row in tsv.splitlines()[1:]:
        cols = row.split("\t")
        if len(cols) < 12:
            continue
        word = cols[11].strip()
        try:
            conf = float(cols[10])
        except ValueError:
            continue
        if not word or conf < 0:
            continue
        lines.setdefault((cols[1], cols[2], cols[3], cols[4]), []).append(word)
        confidences.append(conf)
    return "\n".join(" ".join(words) for words in lines.values()), confidences
