"""Findings comparing the document with the legal profile: the legal (or contact's) name, the
address, the registration number, and a P.O. box in the company's address block."""

from __future__ import annotations

import re

from rapidfuzz import fuzz

from security.choices import CheckKind
from security.verification.assist.countries import _country_evidence
from security.verification.assist.doctypes import DocRule
from security.verification.assist.document_checks import _type_label
from security.verification.assist.facts import Finding, ProfileFacts, _join
from security.verification.assist.policy import (
    NAME_FULL,
    NAME_PARTIAL,
    PENALTY_PO_BOX,
    POINTS_ADDRESS,
    POINTS_CITY,
    POINTS_COUNTRY_POSTAL,
    POINTS_NAME_FULL,
    POINTS_NAME_PARTIAL,
    POINTS_REGNO,
    POINTS_STREET,
    REGISTER_TYPES,
    REGNO_TYPES,
    STREET_MATCH,
)
from security.verification.normalize import (
    fold,
    normalize_address,
    normalize_name,
    normalized_name_similarity,
    tolerant_pattern,
)

_PO_BOX = re.compile(
    r"(?<![a-z])(p\.?\s?o\.?\s?box|post\s+office\s+box|postfach|pobox|bo[iî]te\s+postale|b\.?p\.?\s+\d+|"
    r"cedex\s+\d*\s*bp|pmb\s+\d+)(?![a-z])"
)


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
