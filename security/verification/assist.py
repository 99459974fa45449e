"""Assisted verification: how likely an uploaded document is to pass, and what to fix
(spec/accounts.md §4.2).

No opaque model: every signal is a `Finding` with the points it earned or cost, and the score is
their sum, clamped to 0..100 (only the lower bound can bind: the positive signals add up to at
most 100; `Assessment.points_total` keeps the unclamped sum). Every finding that earns less than
its signal's full points, or costs points, carries a `fix` sentence saying exactly what to do.

Scoring (spec table): document type recognised and allowed for the check 25; legal name
similarity ≥ 95 / 85–94 / < 85 → 30 / 15 / 0; address: country + postal code 10, city 5,
street similarity ≥ 85 → 10; registration number exact match 10 (when the profile has one and the
document type carries one); within the age limit 10. Penalties: unreadable (no text, or a page's
OCR confidence < 60) −30; a page's OCR confidence 60–79 −5 (spec example); expired −20; P.O. box
−25. Bands: ≥ 80 likely, 50–79 needs review, < 50 unlikely.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from rapidfuzz import fuzz

from security.choices import CheckKind, DocumentType, Likelihood
from security.verification.extract import DocumentUnreadable, Extraction, extract
from security.verification.normalize import (
    compact,
    fold,
    issue_date,
    normalize_address,
    normalize_name,
    normalized_name_similarity,
    tolerant_pattern,
)

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

_PO_BOX = re.compile(
    r"(?<![a-z])(p\.?\s?o\.?\s?box|post\s+office\s+box|postfach|pobox|bo[iî]te\s+postale|b\.?p\.?\s+\d+|"
    r"cedex\s+\d*\s*bp|pmb\s+\d+)(?![a-z])"
)


# --- Data -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProfileFacts:
    """The legal profile the document is compared against."""

    legal_name: str
    address_line1: str
    city: str
    postal_code: str
    country: str
    registration_number: str = ""
    #: The primary contact, compared instead of the legal name for an identity check.
    contact_name: str = ""

    @classmethod
    def from_organization(cls, org) -> ProfileFacts:
        contact = " ".join(
            part for part in (org.primary_contact_first_name, org.primary_contact_last_name) if part
        )
        return cls(
            legal_name=org.legal_name,
            address_line1=org.address_line1,
            city=org.city,
            postal_code=org.postal_code,
            country=(org.country or "").upper(),
            registration_number=org.company_registration_number,
            contact_name=contact,
        )


@dataclass(frozen=True)
class Finding:
    code: str
    severity: str  # "info" | "warning" | "error"
    detail: str
    points: int
    fix: str = ""

    def as_dict(self) -> dict:
        data = {"code": self.code, "severity": self.severity, "detail": self.detail, "points": self.points}
        if self.fix:
            data["fix"] = self.fix
        return data


@dataclass(frozen=True)
class Assessment:
    check: str
    score: int
    band: Likelihood
    findings: list[Finding]
    detected_doc_type: str
    page_count: int
    text: str
    readable: bool
    declared_type: str = ""
    #: The findings' sum before clamping to 0..100.
    points_total: int = 0
    extraction: Extraction | None = field(default=None, repr=False, compare=False)

    @property
    def passes(self) -> bool:
        return self.band == Likelihood.LIKELY

    def as_dict(self) -> dict:
        """spec/accounts.md §4.2's JSON (band as its label) plus the band's code and the facts."""
        return {
            "check": str(self.check),
            "score": self.score,
            "band": Likelihood(self.band).label,
            "findings": [f.as_dict() for f in self.findings],
            "band_code": str(self.band),
            "points_total": self.points_total,
            "detected_doc_type": self.detected_doc_type,
            "declared_type": self.declared_type,
            "page_count": self.page_count,
            "readable": self.readable,
        }

    def findings_as_dicts(self) -> list[dict]:
        return [f.as_dict() for f in self.findings]


def band_for(score: int) -> Likelihood:
    if score >= BAND_LIKELY:
        return Likelihood.LIKELY
    if score >= BAND_REVIEW:
        return Likelihood.NEEDS_REVIEW
    return Likelihood.UNLIKELY


# --- Document-type rules --------------------------------------------------------------------------


@dataclass(frozen=True)
class DocRule:
    doc_type: DocumentType
    label: str
    country: str  # "" when the rule is not tied to a country
    #: A title phrase alone recognises the type (weight 3); keywords weigh 1 each.
    titles: tuple[str, ...]
    keywords: tuple[str, ...] = ()


RULES: tuple[DocRule, ...] = (
    # Business registers and their extracts.
    DocRule(
        DT.REGISTRATION_EXTRACT,
        "Handelsregister extract",
        "DE",
        ("handelsregister", "registerauszug", "aktueller ausdruck", "chronologischer ausdruck"),
        (
            "amtsgericht",
            "registergericht",
            "hrb",
            "hra",
            "abteilung b",
            "registerblatt",
            "gemeinsames registerportal",
            "sitz",
            "geschaftsfuhrer",
            "gegenstand des unternehmens",
            "stammkapital",
        ),
    ),
    DocRule(
        DT.REGISTRATION_EXTRACT,
        "Companies House register extract",
        "GB",
        ("companies house", "company overview", "registered office address"),
        (
            "company number",
            "company status",
            "company type",
            "incorporated on",
            "nature of business",
            "sic",
            "confirmation statement",
            "accounts next due",
            "private limited company",
        ),
    ),
    DocRule(
        DT.REGISTRATION_EXTRACT,
        "Kbis extract",
        "FR",
        ("extrait kbis", "extrait k bis", "registre du commerce et des societes"),
        (
            "greffe",
            "tribunal de commerce",
            "rcs",
            "immatriculation",
            "siren",
            "forme juridique",
            "capital social",
            "activite principale",
            "infogreffe",
        ),
    ),
    DocRule(
        DT.REGISTRATION_EXTRACT,
        "Certificate of good standing",
        "US",
        ("certificate of good standing", "certificate of status", "certificate of existence"),
        (
            "secretary of state",
            "good standing",
            "entity number",
            "file number",
            "duly incorporated",
            "division of corporations",
            "in existence",
        ),
    ),
    DocRule(
        DT.INCORPORATION_CERTIFICATE,
        "Certificate of incorporation",
        "",
        ("certificate of incorporation", "articles of incorporation", "certificat d'immatriculation"),
        (
            "registrar of companies",
            "is this day incorporated",
            "companies act",
            "incorporated under",
            "secretary of state",
            "given at companies house",
            "limited by shares",
            "date of incorporation",
        ),
    ),
    # Tax registrations.
    DocRule(
        DT.TAX_REGISTRATION,
        "VAT registration certificate",
        "GB",
        ("vat registration certificate", "certificate of registration for vat"),
        ("hm revenue", "hmrc", "vat registration number", "effective date of registration", "vat"),
    ),
    DocRule(
        DT.TAX_REGISTRATION,
        "Umsatzsteuer-ID confirmation",
        "DE",
        ("umsatzsteuer-identifikationsnummer", "bestatigung der umsatzsteuer", "steuerliche erfassung"),
        ("bundeszentralamt fur steuern", "finanzamt", "steuernummer", "ust-idnr", "umsatzsteuer"),
    ),
    DocRule(
        DT.TAX_REGISTRATION,
        "VAT number certificate",
        "FR",
        ("numero de tva intracommunautaire", "attestation d'immatriculation a la tva"),
        ("direction generale des finances publiques", "dgfip", "service des impots", "tva"),
    ),
    DocRule(
        DT.TAX_REGISTRATION,
        "IRS EIN confirmation",
        "US",
        ("employer identification number", "ein assigned", "cp 575"),
        ("internal revenue service", "department of the treasury", "irs", "ein", "taxpayer"),
    ),
    DocRule(
        DT.BUSINESS_LICENCE,
        "Business licence",
        "",
        (
            "business licence",
            "business license",
            "gewerbeanmeldung",
            "gewerbeschein",
            "licence d'exploitation",
        ),
        (
            "licence number",
            "license number",
            "gewerbeamt",
            "ordnungsamt",
            "licensee",
            "valid until",
            "issued by the city",
            "permitted activity",
            "betriebsstatte",
        ),
    ),
    # Address evidence.
    DocRule(
        DT.UTILITY_BILL,
        "Utility bill",
        "",
        ("electricity bill", "gas bill", "water bill", "utility bill", "energy bill", "your bill"),
        (
            "meter reading",
            "meter number",
            "kwh",
            "billing period",
            "amount due",
            "supply address",
            "tariff",
            "service address",
            "standing charge",
            "usage",
            "previous balance",
            "direct debit",
        ),
    ),
    DocRule(
        DT.UTILITY_BILL,
        "Stromrechnung",
        "DE",
        ("stromrechnung", "gasrechnung", "jahresabrechnung", "energierechnung", "wasserrechnung"),
        (
            "zahlerstand",
            "zahlernummer",
            "verbrauch",
            "kwh",
            "abschlag",
            "stadtwerke",
            "lieferstelle",
            "abrechnungszeitraum",
            "rechnungsbetrag",
            "arbeitspreis",
            "grundpreis",
        ),
    ),
    DocRule(
        DT.UTILITY_BILL,
        "Facture d'électricité",
        "FR",
        ("facture d'electricite", "facture de gaz", "facture d'eau", "facture d'energie"),
        (
            "consommation",
            "compteur",
            "kwh",
            "abonnement",
            "point de livraison",
            "montant a payer",
            "periode de facturation",
            "releve",
        ),
    ),
    DocRule(
        DT.BANK_STATEMENT,
        "Bank statement",
        "",
        ("bank statement", "statement of account", "account statement"),
        (
            "iban",
            "bic",
            "sort code",
            "opening balance",
            "closing balance",
            "balance brought forward",
            "routing number",
            "beginning balance",
            "ending balance",
            "checking account",
            "business account",
            "account number",
            "deposits",
            "withdrawals",
        ),
    ),
    DocRule(
        DT.BANK_STATEMENT,
        "Kontoauszug",
        "DE",
        ("kontoauszug",),
        (
            "iban",
            "bic",
            "alter kontostand",
            "neuer kontostand",
            "kontostand",
            "buchungstag",
            "wertstellung",
            "kontoinhaber",
            "geschaftskonto",
            "gutschrift",
            "lastschrift",
        ),
    ),
    DocRule(
        DT.BANK_STATEMENT,
        "Relevé de compte",
        "FR",
        ("releve de compte", "releve bancaire"),
        (
            "iban",
            "bic",
            "solde crediteur",
            "ancien solde",
            "nouveau solde",
            "titulaire du compte",
            "debit",
            "credit",
        ),
    ),
    # Employment, domain and identity.
    DocRule(
        DT.ASSIGNMENT_LETTER,
        "Assignment letter",
        "",
        (
            "letter of assignment",
            "assignment letter",
            "letter of authorization",
            "letter of authorisation",
            "employment confirmation",
            "arbeitgeberbescheinigung",
            "attestation d'emploi",
        ),
        (
            "to whom it may concern",
            "authorized representative",
            "authorised representative",
            "hereby confirm",
            "employed by",
            "on behalf of",
            "position",
            "since",
        ),
    ),
    DocRule(
        DT.DOMAIN_RECORD,
        "Domain ownership record",
        "",
        ("whois", "domain registration", "registry domain id"),
        (
            "registrant",
            "registrar",
            "domain name",
            "name server",
            "creation date",
            "registry expiry date",
            "registrant organization",
            "domain status",
        ),
    ),
    DocRule(
        DT.GOVERNMENT_ID,
        "Government ID",
        "",
        (
            "passport",
            "identity card",
            "personalausweis",
            "carte nationale d'identite",
            "driver's license",
            "driving licence",
            "reisepass",
        ),
        (
            "date of birth",
            "nationality",
            "geburtsdatum",
            "staatsangehorigkeit",
            "date of expiry",
            "surname",
            "given names",
            "place of birth",
        ),
    ),
)
#: Points a rule must reach: one title phrase (3), or three keywords.
RULE_THRESHOLD = 3


def _phrase_regex(phrase: str) -> re.Pattern[str]:
    return re.compile(r"(?<![a-z0-9])" + re.escape(phrase) + r"(?![a-z0-9])")


_RULE_PATTERNS = [
    (
        rule,
        [(p, _phrase_regex(p)) for p in rule.titles],
        [(p, _phrase_regex(p)) for p in rule.keywords],
    )
    for rule in RULES
]


def _has(folded: str, phrase: str, pattern: re.Pattern[str]) -> bool:
    # The substring test is cheap; the regex then checks word boundaries ("vat" not in "private").
    return phrase in folded and pattern.search(folded) is not None


def detect_type(folded: str) -> tuple[DocRule | None, int]:
    """The best-matching rule for the (folded) text and its points; (None, 0) below threshold."""
    best: tuple[DocRule | None, int] = (None, 0)
    for rule, titles, keywords in _RULE_PATTERNS:
        points = 3 * sum(1 for p, r in titles if _has(folded, p, r)) + sum(
            1 for p, r in keywords if _has(folded, p, r)
        )
        if points > best[1]:
            best = (rule, points)
    return best if best[1] >= RULE_THRESHOLD else (None, 0)


# --- Countries ------------------------------------------------------------------------------------

COUNTRY_NAMES: dict[str, tuple[str, ...]] = {
    "DE": ("germany", "deutschland", "bundesrepublik deutschland"),
    "GB": ("united kingdom", "great britain", "england", "wales", "scotland", "northern ireland", "uk"),
    "US": ("united states", "united states of america", "usa", "u.s.a."),
    "FR": ("france", "republique francaise"),
    "AT": ("austria", "osterreich"),
    "CH": ("switzerland", "schweiz", "suisse"),
    "NL": ("netherlands", "nederland"),
    "BE": ("belgium", "belgique", "belgie"),
    "ES": ("spain", "espana"),
    "IT": ("italy", "italia"),
    "IE": ("ireland", "eire"),
    "CA": ("canada",),
    "AU": ("australia",),
    "IN": ("india",),
    "JP": ("japan",),
}
_COUNTRY_PATTERNS = {code: [_phrase_regex(n) for n in names] for code, names in COUNTRY_NAMES.items()}
_GB_POSTCODE = re.compile(r"^[A-Z]{1,2}[0-9][0-9A-Z]?[0-9][A-Z]{2}$")
_US_STATES = [
    "AL",
    "AK",
    "AZ",
    "AR",
    "CA",
    "CO",
    "CT",
    "DE",
    "DC",
    "FL",
    "GA",
    "HI",
    "ID",
    "IL",
    "IN",
    "IA",
    "KS",
    "KY",
    "LA",
    "ME",
    "MD",
    "MA",
    "MI",
    "MN",
    "MS",
    "MO",
    "MT",
    "NE",
    "NV",
    "NH",
    "NJ",
    "NM",
    "NY",
    "NC",
    "ND",
    "OH",
    "OK",
    "OR",
    "PA",
    "RI",
    "SC",
    "SD",
    "TN",
    "TX",
    "UT",
    "VT",
    "VA",
    "WA",
    "WV",
    "WI",
    "WY",
]


def _country_evidence(country: str, folded: str, upper: str, postal: str, rule: DocRule | None) -> str:
    """Why the document is from `country` ("" when nothing says so)."""
    if rule is not None and rule.country == country:
        return rule.label
    for pattern in _COUNTRY_PATTERNS.get(country, ()):
        if pattern.search(folded):
            return "country name"
    if country == "GB" and _GB_POSTCODE.match(compact(postal)):
        return "UK postcode format"
    if country == "US" and postal:
        zip_code = re.escape(compact(postal)[:5])
        if re.search(rf"\b(?:{'|'.join(_US_STATES)})\s*,?\s+{zip_code}\b", upper):
            return "state and ZIP code"
    if rule is None and len(country) == 2 and re.search(rf"(?<![A-Z]){country}[\s-]?\d", upper):
        return "country code"
    return ""


# --- Assessment -----------------------------------------------------------------------------------


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


def _detected_country(folded: str, profile: ProfileFacts) -> str:
    country = (profile.country or "").upper()
    for pattern in _COUNTRY_PATTERNS.get(country, ()):
        if pattern.search(folded):
            return country
    return ""


_NAME_LABELS = re.compile(
    r"^\s*(?:(?:\d{1,2}|[a-z])[.)]\s*)*(?:company name|name of company|registered name|legal name|entity "
    r"name|business name|"
    r"firma|firmenname|name|account holder|account name|kontoinhaber|customer|kunde|bill to|billed to|"
    r"d[eé]nomination|raison sociale|titulaire(?: du compte)?|registrant organization|registrant name|"
    r"licensee|taxpayer|company|inhaber)\s*[:\-]\s*(.+)$",
    re.IGNORECASE,
)


#: "of Contoso Inc." (a certificate's second title line): the name without its preposition.
_LEADING_WORD = re.compile(r"^(?:of|for|to|de|von|für)\s+", re.IGNORECASE)


def _name_candidates(text: str) -> list[str]:
    candidates: list[str] = []
    seen: set[str] = set()

    def add(value: str) -> None:
        value = value.strip(" \t:-·|")
        if value and len(value) <= 120 and any(ch.isalpha() for ch in value) and value not in seen:
            seen.add(value)
            candidates.append(value)

    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        match = _NAME_LABELS.match(line)
        if match:
            add(match.group(1))
        add(line)
        lead = _LEADING_WORD.match(line)
        if lead:
            add(line[lead.end() :])
        for part in _segments(line):
            add(part)
    return candidates


def _name_finding(check, text, profile: ProfileFacts, detected) -> Finding:
    expected = profile.legal_name
    what = "legal name"
    if check == CheckKind.IDENTITY and profile.contact_name:
        expected, what = profile.contact_name, "primary contact's name"
    if not expected.strip():
        return Finding(
            "NAME_NOT_ON_PROFILE",
            "warning",
            f"No {what} on the profile to compare",
            0,
            fix=f"Enter the {what} in your legal profile, then upload the document again.",
        )
    best_score, best = 0, ""
    normalized = normalize_name(expected)
    for candidate in _name_candidates(text):
        score = normalized_name_similarity(normalize_name(candidate), normalized)
        if score > best_score:
            best_score, best = score, candidate
    on_register = detected in REGISTER_TYPES
    if best_score >= NAME_FULL:
        return Finding(
            "NAME_MATCH",
            "info",
            f"Document name '{best}' matches profile '{expected}' (similarity {best_score})",
            POINTS_NAME_FULL,
        )
    if best_score >= NAME_PARTIAL:
        fix = (
            "Update the legal name in your profile to match the register exactly, or upload the extract for "
            "the correct entity."
            if on_register
            else f"Update the {what} in your profile to match the document exactly, or upload a document "
            f"issued to '{expected}'."
        )
        return Finding(
            "NAME_PARTIAL",
            "warning",
            f"Document name '{best}' vs profile '{expected}' (similarity {best_score})",
            POINTS_NAME_PARTIAL,
            fix=fix,
        )
    detail = (
        f"Closest name on the document '{best}' vs profile '{expected}' (similarity {best_score})"
        if best
        else f"No name on the document to compare with profile '{expected}'"
    )
    return Finding(
        "NAME_MISMATCH",
        "error",
        detail,
        0,
        fix=f"Upload a document issued to '{expected}', or correct the {what} in your profile if it has "
        f"changed.",
    )


def _address_finding(text, folded, profile: ProfileFacts, rule: DocRule | None) -> Finding:
    if not (profile.postal_code or profile.city or profile.address_line1):
        return Finding(
            "ADDRESS_NOT_ON_PROFILE",
            "warning",
            "No address on the profile to compare",
            0,
            fix="Enter your business address in your legal profile, then upload the document again.",
        )
    upper = folded.upper()
    matched: list[str] = []
    missing: list[str] = []
    points = 0
    country = (profile.country or "").upper()
    postal_pattern = tolerant_pattern(profile.postal_code) if profile.postal_code else None
    postal_ok = bool(postal_pattern and postal_pattern.search(upper))
    country_ok = (
        bool(_country_evidence(country, folded, upper, profile.postal_code, rule)) if country else False
    )
    if postal_ok and country_ok:
        points += POINTS_COUNTRY_POSTAL
        matched += ["country", "postal code"]
    else:
        if not country_ok:
            missing.append(f"country {country or '(none on profile)'}")
        if not postal_ok:
            missing.append(f"postal code {profile.postal_code or '(none on profile)'}")

    normalized_lines = [normalize_address(line) for line in text.splitlines() if line.strip()]
    city = normalize_address(profile.city)
    city_ok = False
    if city:
        city_re = re.compile(r"(?<![a-z0-9])" + re.escape(city) + r"(?![a-z0-9])")
        city_ok = any(city_re.search(line) for line in normalized_lines)
    if city_ok:
        points += POINTS_CITY
        matched.append("city")
    else:
        missing.append(f"city {profile.city or '(none on profile)'}")

    street = normalize_address(profile.address_line1)
    street_score = 0
    if street:
        numbers = set(re.findall(r"\d+\w*", street))
        for line in normalized_lines:
            if numbers and not numbers <= set(line.split()):
                continue
            street_score = max(street_score, round(fuzz.token_set_ratio(street, line)))
    if street_score >= STREET_MATCH:
        points += POINTS_STREET
        matched.append("street")
    else:
        missing.append(f"street {profile.address_line1 or '(none on profile)'}")

    if points == POINTS_ADDRESS:
        return Finding("ADDRESS_MATCH", "info", "Country, postal code, city and street match", points)
    found = _join(matched) + (" match" if len(matched) > 1 else " matches") if matched else "Nothing matches"
    detail = f"{found[0].upper()}{found[1:]}; not found on the document: {_join(missing)}"
    return Finding(
        "ADDRESS_PARTIAL" if points else "ADDRESS_MISMATCH",
        "warning" if points else "error",
        detail,
        points,
        fix=(
            "Upload a document that shows your full business address as on your profile "
            f"({_profile_address(profile)}), or correct the address in your legal profile."
        ),
    )


def _profile_address(profile: ProfileFacts) -> str:
    place = " ".join(p for p in (profile.postal_code, profile.city) if p)
    return ", ".join(p for p in (profile.address_line1, place, profile.country) if p)


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _regno_finding(folded, profile: ProfileFacts, detected, declared_type) -> Finding:
    if not profile.registration_number.strip():
        return Finding("REGNO_MISSING", "info", "No registration number on profile to compare", 0)
    doc_type = detected or declared_type
    if doc_type and doc_type not in REGNO_TYPES:
        return Finding(
            "REGNO_NOT_ON_DOCUMENT_TYPE",
            "info",
            f"A {_type_label(doc_type).lower()} does not carry a registration number; not compared",
            0,
        )
    pattern = tolerant_pattern(profile.registration_number)
    if pattern and pattern.search(folded.upper()):
        return Finding(
            "REGNO_MATCH", "info", f"Registration number {profile.registration_number} found", POINTS_REGNO
        )
    return Finding(
        "REGNO_NOT_FOUND",
        "warning",
        f"Registration number {profile.registration_number} not found on the document",
        0,
        fix=(
            f"Upload a document that shows registration number {profile.registration_number}, or correct the "
            "registration number in your legal profile."
        ),
    )


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


def _po_box_finding(text, folded, profile: ProfileFacts) -> Finding | None:
    """A P.O. box in the company's address block: on a line from the one naming the company down to
    the one with the profile's postal code (at most four lines), or on the postal-code line itself.
    A sender's own "Postfach"/"PO Box" line in a letterhead does not count."""
    if not _PO_BOX.search(folded):
        return None
    raw_lines = [line for line in text.splitlines() if line.strip()]
    lines = [fold(line) for line in raw_lines]
    postal = tolerant_pattern(profile.postal_code) if profile.postal_code else None
    postal_lines = [i for i, line in enumerate(lines) if postal and postal.search(line.upper())]
    expected = normalize_name(profile.legal_name)
    name_lines = [
        i
        for i, line in enumerate(raw_lines)
        if expected
        and any(
            normalized_name_similarity(normalize_name(part), expected) >= NAME_PARTIAL
            for part in _segments(line)
        )
    ]
    # Without the company's name on the document, the postal-code lines are its address block.
    block: set[int] = set() if name_lines else set(postal_lines)
    for start in name_lines:
        end = next((p for p in postal_lines if start <= p <= start + 4), None)
        if end is not None:
            block.update(range(start, end + 1))
    for index in sorted(block):
        if _PO_BOX.search(lines[index]):
            # A line naming the P.O. box with another postal code is someone else's address.
            if index not in postal_lines and _OTHER_POSTAL.search(lines[index]):
                continue
            return Finding(
                "PO_BOX_NOT_ALLOWED",
                "error",
                f"The address on the document is a P.O. box ('{_segment_with_po_box(raw_lines[index])}')",
                PENALTY_PO_BOX,
                fix="Upload a document that shows your street address, and enter a street address (not a "
                "P.O. box) "
                "in your legal profile.",
            )
    return None


_OTHER_POSTAL = re.compile(r"\b\d{4,5}\s+[a-z]")


def _segments(line: str) -> list[str]:
    return [part for part in re.split(r"\s*[,;|\xb7]\s*|\s{3,}", line.strip()) if part]


def _segment_with_po_box(line: str) -> str:
    return next((part for part in _segments(line) if _PO_BOX.search(fold(part))), line.strip())


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


__all__ = [
    "ALLOWED_TYPES",
    "Assessment",
    "DocumentUnreadable",
    "Finding",
    "ProfileFacts",
    "assess",
    "assess_extraction",
]
