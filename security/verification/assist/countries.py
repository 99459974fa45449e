"""Evidence on a document that it is from the profile's country: the issuing rule, the
country's name, or the shape of its postal codes."""

from __future__ import annotations

import re

from security.verification.assist.doctypes import DocRule, _phrase_regex
from security.verification.assist.facts import ProfileFacts
from security.verification.normalize import compact

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


def _detected_country(folded: str, profile: ProfileFacts) -> str:
    country = (profile.country or "").upper()
    for pattern in _COUNTRY_PATTERNS.get(country, ()):
        if pattern.search(folded):
            return country
    return ""
