"""The scoring table of assisted verification (spec/accounts.md §4.2): which document types
support each check, how old each may be, the points and penalties of each signal, the bands."""

from __future__ import annotations

from security.choices import CheckKind, DocumentType, Likelihood

__all__ = ("ALLOWED_TYPES",)

DT = DocumentType

#: Which document types may support each check (spec/accounts.md §4.1).
ALLOWED_TYPES: dict[CheckKind, frozenset[DocumentType]] = {
    CheckKind.EMAIL: frozenset(),  # verified by the link in the verification email
    CheckKind.EMPLOYMENT: frozenset({DT.ASSIGNMENT_LETTER, DT.DOMAIN_RECORD}),
    CheckKind.BUSINESS: frozenset(
        {DT.REGISTRATION_EXTRACT, DT.INCORPORATION_CERTIFICATE, DT.TAX_REGISTRATION, DT.BUSINESS_LICENCE}
    ),
    CheckKind.ADDRESS: frozenset({DT.REGISTRATION_EXTRACT, DT.UTILITY_BILL, DT.BANK_STATEMENT}),
    CheckKind.IDENTITY: frozenset({DT.GOVERNMENT_ID}),
    CheckKind.DOMAIN: frozenset({DT.DOMAIN_RECORD}),
}

#: Maximum age in days of each document type; None: the document does not go stale (a
#: certificate of incorporation records a past event; an ID has its own expiry).
AGE_LIMIT_DAYS: dict[DocumentType, int | None] = {
    DT.REGISTRATION_EXTRACT: 365,
    DT.TAX_REGISTRATION: 365,
    DT.BUSINESS_LICENCE: 365,
    DT.INCORPORATION_CERTIFICATE: None,
    DT.UTILITY_BILL: 90,
    DT.BANK_STATEMENT: 90,
    DT.ASSIGNMENT_LETTER: 90,
    DT.DOMAIN_RECORD: 90,
    DT.GOVERNMENT_ID: None,
}
#: Document types that carry the company's registration number.
REGNO_TYPES = frozenset(
    {DT.REGISTRATION_EXTRACT, DT.INCORPORATION_CERTIFICATE, DT.TAX_REGISTRATION, DT.BUSINESS_LICENCE}
)
#: Types whose name mismatch is best fixed against the register.
REGISTER_TYPES = frozenset({DT.REGISTRATION_EXTRACT, DT.INCORPORATION_CERTIFICATE})

POINTS_TYPE = 25
POINTS_NAME_FULL, POINTS_NAME_PARTIAL = 30, 15
POINTS_COUNTRY_POSTAL, POINTS_CITY, POINTS_STREET = 10, 5, 10
POINTS_ADDRESS = POINTS_COUNTRY_POSTAL + POINTS_CITY + POINTS_STREET
POINTS_REGNO = 10
POINTS_AGE = 10
PENALTY_UNREADABLE = -30
PENALTY_OCR_LOW = -5
PENALTY_EXPIRED = -20
PENALTY_PO_BOX = -25
NAME_FULL, NAME_PARTIAL = 95, 85
STREET_MATCH = 85
OCR_UNREADABLE, OCR_LOW = 60, 80
MIN_DPI = 150
MAX_PAGES = 20
#: Fewer letters and digits than this in the whole document: nothing could be read.
MIN_TEXT_CHARS = 20
BAND_LIKELY, BAND_REVIEW = 80, 50

TEXT_LAYER_FIX = "Upload the PDF from the registry, which has a text layer."


def band_for(score: int) -> Likelihood:
    if score >= BAND_LIKELY:
        return Likelihood.LIKELY
    if score >= BAND_REVIEW:
        return Likelihood.NEEDS_REVIEW
    return Likelihood.UNLIKELY
