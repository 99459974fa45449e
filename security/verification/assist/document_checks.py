"""Findings on the document itself: its type (recognised and accepted for the check) and its
age (issued within the type's limit)."""

from __future__ import annotations

from datetime import date

from security.choices import CheckKind, DocumentType
from security.verification.assist.countries import _detected_country
from security.verification.assist.doctypes import DocRule
from security.verification.assist.facts import Finding, ProfileFacts
from security.verification.assist.policy import (
    AGE_LIMIT_DAYS,
    ALLOWED_TYPES,
    PENALTY_EXPIRED,
    POINTS_AGE,
    POINTS_TYPE,
)
from security.verification.normalize import issue_date


def _type_label(doc_type: str) -> str:
    try:
        return str(DocumentType(doc_type).label)
    except ValueError:
        return doc_type or "unknown"


def _allowed_list(check: CheckKind) -> str:
    labels = sorted(str(t.label).lower() for t in ALLOWED_TYPES[check])
    if not labels:
        return ""
    return labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " or " + labels[-1]


def _type_finding(check, rule: DocRule | None, declared_type, folded, profile) -> Finding:
    allowed = ALLOWED_TYPES[check]
    declared_note = ""
    if declared_type and rule and declared_type != rule.doc_type:
        declared_note = f" (declared as {_type_label(declared_type).lower()})"
    if not allowed:
        return Finding(
            "DOC_TYPE_NOT_ALLOWED",
            "error",
            f"The {check.label.lower()} check is not verified with documents",
            0,
            fix="Complete this check with the link in the verification email instead of uploading a "
            "document.",
        )
    if rule is None:
        return Finding(
            "DOC_TYPE_UNKNOWN",
            "warning",
            "Document type not recognised from its text",
            0,
            fix=f"Upload a {_allowed_list(check)} issued to your company; it must show the issuer's name "
            f"and title.",
        )
    if rule.doc_type not in allowed:
        return Finding(
            "DOC_TYPE_NOT_ALLOWED",
            "error",
            f"{rule.label} recognised{declared_note}; not accepted for the {check.label.lower()} check",
            0,
            fix=f"Upload a {_allowed_list(check)} instead.",
        )
    country = rule.country or _detected_country(folded, profile)
    where = f" ({country})" if country else ""
    return Finding("DOC_TYPE_OK", "info", f"{rule.label}{where} recognised{declared_note}", POINTS_TYPE)


def _age_finding(text, profile: ProfileFacts, detected, declared_type, today: date) -> Finding:
    doc_type = detected or (declared_type if declared_type in DocumentType.values else None)
    limit = AGE_LIMIT_DAYS.get(DocumentType(doc_type)) if doc_type else 365
    issued, _ = issue_date(text, today=today, month_first=(profile.country or "").upper() == "US")
    if doc_type and limit is None:
        when = f"Issued {issued.isoformat()}; " if issued and issued <= today else ""
        return Finding(
            "AGE_OK", "info", f"{when}a {_type_label(doc_type).lower()} has no age limit", POINTS_AGE
        )
    kind = _type_label(doc_type).lower() if doc_type else "document"
    limit_text = "12 months" if limit == 365 else f"{limit} days"
    if issued is None:
        return Finding(
            "DATE_NOT_FOUND",
            "warning",
            "No issue date found on the document",
            0,
            fix=f"Upload a {kind} that shows its issue date and is at most {limit_text} old.",
        )
    age = (today - issued).days
    if age < 0:
        return Finding(
            "DATE_IN_FUTURE",
            "error",
            f"Issue date {issued.isoformat()} is in the future",
            0,
            fix=f"Upload the {kind} as issued, with its real issue date.",
        )
    if age > limit:
        return Finding(
            "DOC_TOO_OLD",
            "error",
            f"Issued {issued.isoformat()} ({age} days old; a {kind} must be at most {limit_text} old)",
            PENALTY_EXPIRED,
            fix=f"Upload a {kind} issued within the last {limit_text}.",
        )
    return Finding("AGE_OK", "info", f"Issued {issued.isoformat()} ({age} days old)", POINTS_AGE)
