"""Normalisation and parsing for field matching (spec/accounts.md §4.2 steps 3–4).

Names and addresses are compared after: case-folding (ß → ss), removing accents, replacing
punctuation by spaces, dropping legal-form suffixes (Ltd, GmbH, Inc, LLC, S.A., …) from names, and
expanding street abbreviations (St → Street, Str. → Strasse, Ave → Avenue, …) in addresses.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

from rapidfuzz import fuzz

#: Legal-form words dropped from the end of a name (after punctuation removal: "S.A." → "sa").
LEGAL_SUFFIXES = frozenset(
    {
        "ltd",
        "limited",
        "plc",
        "llp",
        "lp",
        "gmbh",
        "mbh",
        "ag",
        "kg",
        "ohg",
        "ug",
        "haftungsbeschrankt",
        "ek",
        "ev",
        "inc",
        "incorporated",
        "corp",
        "corporation",
        "llc",
        "co",
        "company",
        "sa",
        "sas",
        "sarl",
        "sasu",
        "eurl",
        "snc",
        "bv",
        "nv",
        "srl",
        "spa",
        "ab",
        "as",
        "oy",
        "pty",
    }
)
#: Legal forms written out, dropped like their abbreviations.
LEGAL_FORMS_SPELLED = tuple(
    tuple(form.split())
    for form in (
        "gesellschaft mit beschrankter haftung",
        "aktiengesellschaft",
        "kommanditgesellschaft",
        "unternehmergesellschaft haftungsbeschrankt",
        "public limited company",
        "limited liability company",
        "limited liability partnership",
        "societe par actions simplifiee",
        "societe a responsabilite limitee",
        "societe anonyme",
    )
)
#: Dotted legal forms rebuilt before punctuation goes ("S. A." / "S.A.R.L." → "sa" / "sarl").
_DOTTED = re.compile(r"\b((?:[a-z]\s*\.\s*){2,})(?=\s|$|,)")

STREET_ABBREVIATIONS = {
    "st": "street",
    "str": "strasse",
    "rd": "road",
    "ave": "avenue",
    "av": "avenue",
    "blvd": "boulevard",
    "dr": "drive",
    "ln": "lane",
    "ct": "court",
    "pl": "place",
    "sq": "square",
    "hwy": "highway",
    "pkwy": "parkway",
    "ste": "suite",
    "bd": "boulevard",
}
_STR_SUFFIX = re.compile(r"(\w{3,})str\b")  # "Leopoldstr." → "leopoldstrasse"
_PUNCTUATION = re.compile(r"[^\w\s]|_")
_SPACES = re.compile(r"\s+")


_COMBINING = re.compile(r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")


def fold(text: str) -> str:
    """Case-folded, accents removed ("Straße" → "strasse", "Société" → "societe")."""
    if text.isascii():
        return text.lower()
    return _COMBINING.sub("", unicodedata.normalize("NFKD", text.casefold()))


def _words(text: str) -> list[str]:
    return _SPACES.sub(" ", _PUNCTUATION.sub(" ", text)).split()


def normalize_name(name: str) -> str:
    """Legal name for comparison: folded, '&' → 'and', punctuation gone, legal suffixes dropped."""
    text = fold(name).replace("&", " and ")
    text = _DOTTED.sub(lambda m: re.sub(r"[\s.]", "", m.group(1)), text)
    words = _words(text)
    while words:
        # Written-out forms first: "Limited Liability Company" must not lose only "company".
        spelled = next((form for form in LEGAL_FORMS_SPELLED if tuple(words[-len(form) :]) == form), None)
        if spelled is not None and len(spelled) < len(words):
            del words[-len(spelled) :]
        elif len(words) > 1 and (words[-1] in LEGAL_SUFFIXES or words[-1] == "and"):
            words.pop()
        else:
            break
    return " ".join(words)


def normalize_address(text: str) -> str:
    """Street line or address text for comparison: folded, punctuation gone, abbreviations expanded."""
    folded = _STR_SUFFIX.sub(r"\1strasse", fold(text))
    return " ".join(STREET_ABBREVIATIONS.get(w, w) for w in _words(folded))


def name_similarity(a: str, b: str) -> int:
    """0–100: the mean of rapidfuzz's token-set ratio and token-sort ratio of the normalised names.

    A name with a word more or less than the other is capped at 94 (a partial match): "Contoso UK
    Ltd" is another legal entity than "Contoso Ltd" however close the strings are.

    The token-set ratio alone scores any name contained in the other as 100 ("Fabrikam" vs
    "Fabrikam Consulting Deutschland"), which would pass a sibling or parent entity; the
    token-sort ratio counts the extra words. Their mean keeps word order and legal form
    irrelevant and gives spec §4.2's example its 88.
    """
    return normalized_name_similarity(normalize_name(a), normalize_name(b))


def normalized_name_similarity(na: str, nb: str) -> int:
    """`name_similarity` of names already passed through `normalize_name`."""
    if not na or not nb:
        return 0
    score = round((fuzz.token_set_ratio(na, nb) + fuzz.token_sort_ratio(na, nb)) / 2)
    if score >= FULL_NAME_MATCH and not _same_words(na.split(), nb.split()):
        # A word more or less ("Contoso UK" vs "Contoso") names another entity: never a full match.
        score = FULL_NAME_MATCH - 1
    return score


#: Similarity from which a name counts as the same (spec §4.2: ≥ 95).
FULL_NAME_MATCH = 95
#: Per-word similarity for a typo ("Consulting" / "Consultng") rather than another word.
_WORD_MATCH = 85


def _same_words(a: list[str], b: list[str]) -> bool:
    """Every word of each name has a counterpart in the other (typos allowed)."""
    if len(a) != len(b):
        return False
    return all(any(fuzz.ratio(x, y) >= _WORD_MATCH for y in b) for x in a) and all(
        any(fuzz.ratio(y, x) >= _WORD_MATCH for x in a) for y in b
    )


def compact(text: str) -> str:
    """Upper-case letters and digits only ("HRB 12 345" → "HRB12345", "rg1 1aa" → "RG11AA")."""
    return re.sub(r"[^0-9A-Z]", "", fold(text).upper())


def tolerant_pattern(value: str) -> re.Pattern[str] | None:
    """A regex finding `value` in text with any spaces, dots, dashes or slashes between its
    characters, not inside a longer run of letters/digits."""
    chars = compact(value)
    if not chars:
        return None
    body = r"[\s.\-/]*".join(re.escape(c) for c in chars)
    return re.compile(rf"(?<![0-9A-Z]){body}(?![0-9A-Z])")


# --- Dates ----------------------------------------------------------------------------------------

MONTHS = {
    # English
    "january": 1,
    "february": 2,
    "march": 3,
    "april": 4,
    "may": 5,
    "june": 6,
    "july": 7,
    "august": 8,
    "september": 9,
    "october": 10,
    "november": 11,
    "december": 12,
    "jan": 1,
    "feb": 2,
    "mar": 3,
    "apr": 4,
    "jun": 6,
    "jul": 7,
    "aug": 8,
    "sep": 9,
    "sept": 9,
    "oct": 10,
    "nov": 11,
    "dec": 12,
    # German
    "januar": 1,
    "februar": 2,
    "marz": 3,
    "mai": 5,
    "juni": 6,
    "juli": 7,
    "oktober": 10,
    "dezember": 12,
    # French
    "janvier": 1,
    "fevrier": 2,
    "mars": 3,
    "avril": 4,
    "juin": 6,
    "juillet": 7,
    "aout": 8,
    "septembre": 9,
    "octobre": 10,
    "novembre": 11,
    "decembre": 12,
}
_MONTH_NAMES = "|".join(sorted(MONTHS, key=len, reverse=True))
_ISO = re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b")
_NUMERIC = re.compile(r"\b(\d{1,2})([./])(\d{1,2})\2(\d{4})\b")
_DAY_MONTH = re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th|er)?\.?\s+({_MONTH_NAMES})\.?,?\s+(\d{{4}})\b")
_MONTH_DAY = re.compile(rf"\b({_MONTH_NAMES})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})\b")


def _date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def find_dates(text: str, *, month_first: bool = False) -> list[tuple[int, date]]:
    """Every date in `text` with its position, in these forms: 2025-01-20, 20.01.2025,
    20/01/2025 (01/20/2025 when `month_first`, as in the US), 20 January 2025, 20. Januar 2025,
    20 janvier 2025, January 20, 2025."""
    folded = fold(text)
    found: list[tuple[int, date]] = []
    for m in _ISO.finditer(folded):
        d = _date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        if d:
            found.append((m.start(), d))
    for m in _NUMERIC.finditer(folded):
        first, second, year = int(m.group(1)), int(m.group(3)), int(m.group(4))
        if m.group(2) == "/" and month_first and first <= 12:
            d = _date(year, first, second)
        else:
            d = _date(year, second, first)
        if d:
            found.append((m.start(), d))
    for m in _DAY_MONTH.finditer(folded):
        d = _date(int(m.group(3)), MONTHS[m.group(2)], int(m.group(1)))
        if d:
            found.append((m.start(), d))
    for m in _MONTH_DAY.finditer(folded):
        d = _date(int(m.group(3)), MONTHS[m.group(1)], int(m.group(2)))
        if d:
            found.append((m.start(), d))
    found.sort()
    return found


#: Labels that introduce the date a document was issued, in the languages we read.
ISSUE_DATE_LABELS = (
    "date of issue",
    "issue date",
    "issued on",
    "issued",
    "date issued",
    "statement date",
    "bill date",
    "invoice date",
    "date of this bill",
    "printed on",
    "retrieved on",
    "dated",
    "date of this notice",
    "abruf vom",
    "abruf am",
    "abrufdatum",
    "ausdruck vom",
    "ausgestellt am",
    "rechnungsdatum",
    "erstellt am",
    "datum",
    "stand",
    "date d'emission",
    "date de delivrance",
    "delivre le",
    "extrait du",
    "a jour au",
    "date de la facture",
    "date",
)
#: Words before a "date" label that make it some other date (due, expiry, birth, ...).
_NOT_ISSUE = re.compile(
    r"(due|expiry|expiration|payment|birth|creation|updated|faellig|fallig|echeance|limite)\W*$"
)
_LABEL = re.compile(r"(?<![a-z])(" + "|".join(re.escape(x) for x in ISSUE_DATE_LABELS) + r")(?![a-z])")


def issue_date(text: str, *, today: date, month_first: bool = False) -> tuple[date | None, bool]:
    """The document's issue date and whether a label introduced it.

    The first date within 40 characters after an issue-date label ("Issue date", "Datum",
    "Délivré le", …) wins; failing that, the latest date that is not in the future.
    """
    folded = fold(text)
    dates = find_dates(folded, month_first=month_first)
    if not dates:
        return None, False
    for label in _LABEL.finditer(folded):
        before = folded[max(0, label.start() - 12) : label.start()]
        after = folded[label.end() : label.end() + 12]
        if _NOT_ISSUE.search(before) or after.lstrip().startswith(("of birth", "of expiry", "d'expiration")):
            continue
        for position, value in dates:
            if label.end() <= position <= label.end() + 40:
                return value, True
    past = [value for _, value in dates if value <= today]
    return (max(past) if past else min(value for _, value in dates)), False
