"""Labelled sample documents: which check and document type each label draws, how old the
document is, whose name it shows, and `sample_document` / `labelled_set`."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from security.choices import CheckKind, DocumentType
from security.verification.assist.facts import ProfileFacts
from security.verification.samples.commercial_papers import _bank_statement, _quotation, _utility_bill
from security.verification.samples.official_papers import (
    _business_licence,
    _incorporation_certificate,
    _registration_extract,
    _tax_registration,
)
from security.verification.samples.profiles import _PLACES, _other_entity, sample_profile
from security.verification.samples.render import _render_pdf, _render_scan
from security.verification.samples.wording import Line

LABELS = ("good", "wrong_name", "old", "wrong_type", "unreadable")
DT = DocumentType
CK = CheckKind

#: "Quotation" and other paper no check accepts (not a DocumentType).
OTHER = "other"

#: (check, document type) pairs each label draws from.
GOOD_PAIRS = (
    (CK.BUSINESS, DT.REGISTRATION_EXTRACT),
    (CK.BUSINESS, DT.TAX_REGISTRATION),
    (CK.ADDRESS, DT.UTILITY_BILL),
    (CK.ADDRESS, DT.BANK_STATEMENT),
    (CK.ADDRESS, DT.REGISTRATION_EXTRACT),
)
US_EXTRA_PAIRS = ((CK.BUSINESS, DT.INCORPORATION_CERTIFICATE),)
WRONG_TYPE_PAIRS = (
    (CK.BUSINESS, DT.UTILITY_BILL),
    (CK.BUSINESS, DT.BANK_STATEMENT),
    (CK.ADDRESS, DT.TAX_REGISTRATION),
    (CK.ADDRESS, DT.BUSINESS_LICENCE),
    (CK.BUSINESS, OTHER),
    (CK.ADDRESS, OTHER),
)


@dataclass(frozen=True)
class SampleDocument:
    data: bytes
    file_type: str  # pdf | png | jpeg
    declared_type: str
    check_kind: str
    label: str
    expected_pass: bool
    #: What the document really is (OTHER for paper no check accepts).
    doc_type: str
    profile: ProfileFacts
    issued_on: date
    description: str

    @property
    def filename(self) -> str:
        return f"{self.label}-{self.doc_type}.{'jpg' if self.file_type == 'jpeg' else self.file_type}"


def sample_document(
    label: str,
    *,
    profile: ProfileFacts,
    today: date,
    seed: int,
    doc_type: str | None = None,
    check_kind: str | None = None,
) -> SampleDocument:
    """A document with `label` for `profile`, different for every seed."""
    if label not in LABELS:
        raise ValueError(f"Unknown label {label!r}; use one of {', '.join(LABELS)}")
    rng = random.Random(f"{label}:{seed}:{profile.legal_name}")
    country = profile.country if profile.country in _PLACES else "GB"
    pairs = _pairs(label, country)
    if doc_type is not None:
        matching = [p for p in pairs if p[1] == doc_type] or [(check_kind or _check_for(doc_type), doc_type)]
        pairs = tuple(matching)
    if check_kind is not None:
        pairs = tuple(p for p in pairs if p[0] == check_kind) or ((check_kind, pairs[0][1]),)
    check, real_type = rng.choice(pairs)

    shown = profile
    if label == "wrong_name":
        shown = _other_entity(profile, rng)
    age_days = _age(label, real_type, rng)
    issued = today - timedelta(days=age_days)
    declared = real_type
    if label == "wrong_type" and rng.random() < 0.5:
        declared = _first_allowed(check)
    if declared == OTHER:
        declared = _first_allowed(check)

    lines = _content(real_type, shown, issued, rng)
    description = f"{label}: {real_type} for the {check} check, {country}, issued {issued.isoformat()}"
    if label == "unreadable":
        data, file_type = _render_scan(lines, rng)
    else:
        data, file_type = _render_pdf(lines, rng), "pdf"
    return SampleDocument(
        data=data,
        file_type=file_type,
        declared_type=str(declared),
        check_kind=str(check),
        label=label,
        expected_pass=label == "good",
        doc_type=str(real_type),
        profile=profile,
        issued_on=issued,
        description=description,
    )


def labelled_set(count: int, *, today: date, seed: int = 0) -> list[SampleDocument]:
    """`count` documents, labels in turn, each for its own profile (countries in turn)."""
    documents = []
    for index in range(count):
        number = seed + index
        profile = sample_profile(number // len(LABELS), registration_number=number % 3 != 0)
        documents.append(
            sample_document(LABELS[index % len(LABELS)], profile=profile, today=today, seed=number)
        )
    return documents


def _pairs(label: str, country: str) -> tuple:
    good = GOOD_PAIRS + (US_EXTRA_PAIRS if country == "US" else ())
    if label == "wrong_type":
        return WRONG_TYPE_PAIRS
    if label == "old":
        return tuple(p for p in good if p[1] != DT.INCORPORATION_CERTIFICATE)
    return good


def _check_for(doc_type: str) -> str:
    if doc_type in (DT.UTILITY_BILL, DT.BANK_STATEMENT):
        return CK.ADDRESS
    return CK.BUSINESS


def _first_allowed(check: str) -> str:
    return DT.REGISTRATION_EXTRACT if check in (CK.BUSINESS, CK.ADDRESS) else DT.ASSIGNMENT_LETTER


def _age(label: str, doc_type: str, rng: random.Random) -> int:
    limit = 90 if doc_type in (DT.UTILITY_BILL, DT.BANK_STATEMENT) else 365
    if doc_type == DT.INCORPORATION_CERTIFICATE:
        return rng.randint(400, 4000)
    if label == "old":
        return rng.randint(limit + 5, limit * 3)
    return rng.randint(2, limit - 5)


def _content(doc_type: str, p: ProfileFacts, issued: date, rng: random.Random) -> list[Line]:
    builders = {
        DT.REGISTRATION_EXTRACT: _registration_extract,
        DT.INCORPORATION_CERTIFICATE: _incorporation_certificate,
        DT.TAX_REGISTRATION: _tax_registration,
        DT.UTILITY_BILL: _utility_bill,
        DT.BANK_STATEMENT: _bank_statement,
        DT.BUSINESS_LICENCE: _business_licence,
        OTHER: _quotation,
    }
    return builders[doc_type](p, issued, rng)
