"""Findings on the file's quality: no readable text, low OCR confidence, pages not read, and
signs the file is not as issued (editing software, low resolution, too many pages)."""

from __future__ import annotations

from security.verification.assist.facts import Finding, _join
from security.verification.assist.policy import (
    MAX_PAGES,
    MIN_DPI,
    OCR_LOW,
    OCR_UNREADABLE,
    PENALTY_OCR_LOW,
    PENALTY_UNREADABLE,
    TEXT_LAYER_FIX,
)
from security.verification.extract import Extraction

#: Producer/creator tags of image or PDF editors: the file was edited after it was issued.
EDIT_SOFTWARE = (
    "photoshop",
    "gimp",
    "paint.net",
    "pixelmator",
    "affinity photo",
    "affinity designer",
    "inkscape",
    "canva",
    "pdfescape",
    "sejda",
    "pdf-xchange editor",
    "phantompdf",
    "foxit pdf editor",
    "pdfelement",
    "nitro pdf pro",
    "smallpdf",
    "ilovepdf",
)


def _unreadable_no_text(extraction: Extraction) -> Finding:
    if extraction.pages_without_ocr:
        what = "The file is an image" if extraction.file_type != "pdf" else "The PDF has no text layer"
        detail = f"No text could be read: {what.lower()[0]}{what[1:]} and no OCR engine is installed"
        return Finding("UNREADABLE", "error", detail, PENALTY_UNREADABLE, fix=TEXT_LAYER_FIX)
    if extraction.ocr_used:
        detail = f"No text could be read (OCR confidence {round(extraction.ocr_confidence or 0)})"
        return Finding(
            "UNREADABLE",
            "error",
            detail,
            PENALTY_UNREADABLE,
            fix="Scan the document again at 300 dpi, straight and in focus, or "
            + TEXT_LAYER_FIX[0].lower()
            + TEXT_LAYER_FIX[1:],
        )
    return Finding(
        "UNREADABLE",
        "error",
        "The document contains no readable text",
        PENALTY_UNREADABLE,
        fix=TEXT_LAYER_FIX,
    )


def _ocr_finding(extraction: Extraction) -> Finding | None:
    scanned = [(n, c) for n, c in enumerate(extraction.page_ocr_confidence, start=1) if c is not None]
    worst = min(scanned, key=lambda item: item[1]) if scanned else None
    rescan = (
        "Scan the page again at 300 dpi, straight and in focus, or "
        + TEXT_LAYER_FIX[0].lower()
        + TEXT_LAYER_FIX[1:]
    )
    if worst and worst[1] < OCR_UNREADABLE:
        return Finding(
            "UNREADABLE",
            "error",
            f"Page {worst[0]} OCR confidence {round(worst[1])}",
            PENALTY_UNREADABLE,
            fix=rescan,
        )
    if worst and worst[1] < OCR_LOW:
        return Finding(
            "OCR_LOW",
            "warning",
            f"Page {worst[0]} OCR confidence {round(worst[1])}",
            PENALTY_OCR_LOW,
            fix=rescan,
        )
    if extraction.pages_without_ocr:
        pages = _join([str(n) for n in extraction.pages_without_ocr])
        plural = "s" if len(extraction.pages_without_ocr) > 1 else ""
        return Finding(
            "PAGES_NOT_READ",
            "warning",
            f"Page{plural} {pages} ha{'ve' if plural else 's'} no text layer and no OCR engine is installed; "
            "not read",
            0,
            fix=TEXT_LAYER_FIX,
        )
    return None


def _integrity(extraction: Extraction) -> list[Finding]:
    findings: list[Finding] = []
    producer = extraction.producer or ""
    lowered = producer.casefold()
    editor = next((name for name in EDIT_SOFTWARE if name in lowered), None)
    if editor:
        findings.append(
            Finding(
                "EDIT_SOFTWARE",
                "warning",
                f"The file was produced by editing software ('{producer}')",
                0,
                fix="Upload the document exactly as the issuer provided it, not a version saved from an "
                "editor.",
            )
        )
    if extraction.image_dpi is not None and extraction.image_dpi < MIN_DPI:
        findings.append(
            Finding(
                "LOW_RESOLUTION",
                "warning",
                f"Image resolution {extraction.image_dpi} dpi (at least {MIN_DPI} dpi needed)",
                0,
                fix=f"Scan the document again at {MIN_DPI} dpi or more (300 dpi is best), or "
                + TEXT_LAYER_FIX[0].lower()
                + TEXT_LAYER_FIX[1:],
            )
        )
    if extraction.page_count > MAX_PAGES:
        findings.append(
            Finding(
                "TOO_MANY_PAGES",
                "warning",
                f"{extraction.page_count} pages (reviewers expect at most {MAX_PAGES})",
                0,
                fix="Upload only the pages of the document that show your company's details.",
            )
        )
    return findings
