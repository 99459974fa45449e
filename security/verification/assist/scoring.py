"""`assess`: extract a document's text and score it for a check against the legal profile, one
finding per signal (see the package's docstring for the table)."""

from __future__ import annotations

from datetime import date

from security.choices import CheckKind, DocumentType
from security.verification.assist.doctypes import detect_type
from security.verification.assist.document_checks import _age_finding, _type_finding
from security.verification.assist.facts import Assessment, Finding, ProfileFacts
from security.verification.assist.policy import MIN_TEXT_CHARS, band_for
from security.verification.assist.profile_checks import (
    _address_finding,
    _name_finding,
    _po_box_finding,
    _regno_finding,
)
from security.verification.assist.quality_checks import _integrity, _ocr_finding, _unreadable_no_text
from security.verification.extract import Extraction, extract
from security.verification.normalize import fold

__all__ = ("assess", "assess_extraction")


def assess(
    *,
    data: bytes,
    file_type: str,
    declared_type: str,
    check_kind: str,
    profile: ProfileFacts,
    today: date,
) -> Assessment:
    """Extract the document's text and score it for `check_kind` against `profile`.

    Raises `DocumentUnreadable` when the file cannot be opened at all (corrupt, encrypted, …);
    a file that opens but has no readable text is assessed (score 0, finding UNREADABLE).
    """
    extraction = extract(data, file_type)
    return assess_extraction(
        extraction, declared_type=declared_type, check_kind=check_kind, profile=profile, today=today
    )


def assess_extraction(
    extraction: Extraction,
    *,
    declared_type: str,
    check_kind: str,
    profile: ProfileFacts,
    today: date,
) -> Assessment:
    """The scoring half of `assess`, on text already extracted."""
    check = CheckKind(check_kind)
    text = extraction.text
    folded = fold(text)
    findings: list[Finding] = []

    readable_chars = sum(1 for ch in text if ch.isalnum())
    if readable_chars < MIN_TEXT_CHARS:
        findings.append(_unreadable_no_text(extraction))
        findings.extend(_integrity(extraction))
        return _result(check, findings, "", extraction, declared_type, readable=False)

    rule, _ = detect_type(folded)
    detected = DocumentType(rule.doc_type) if rule else None
    findings.append(_type_finding(check, rule, declared_type, folded, profile))
    findings.append(_name_finding(check, text, profile, detected))
    findings.append(_address_finding(text, folded, profile, rule))
    findings.append(_regno_finding(folded, profile, detected, declared_type))
    findings.append(_age_finding(text, profile, detected, declared_type, today))
    ocr = _ocr_finding(extraction)
    if ocr:
        findings.append(ocr)
    po_box = _po_box_finding(text, folded, profile)
    if po_box:
        findings.append(po_box)
    findings.extend(_integrity(extraction))
    readable = not any(f.code == "UNREADABLE" for f in findings)
    return _result(check, findings, detected or "", extraction, declared_type, readable=readable)


def _result(check, findings, detected, extraction: Extraction, declared_type, *, readable) -> Assessment:
    total = sum(f.points for f in findings)
    score = max(0, min(100, total))
    return Assessment(
        check=check,
        score=score,
        band=band_for(score),
        findings=findings,
        detected_doc_type=str(detected),
        page_count=extraction.page_count,
        text=extraction.text,
        readable=readable,
        declared_type=declared_type,
        points_total=total,
        extraction=extraction,
    )
