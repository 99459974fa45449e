"""How documents print dates, names, streets and address blocks, by country and varied by the
seed's random generator."""

from __future__ import annotations

import random
from datetime import date

from security.verification.assist.facts import ProfileFacts
from security.verification.samples.profiles import _COUNTRY_NAME, _city, _state

#: A line of content: (style, text); styles: title, head, body, small, gap, right.
Line = tuple[str, str]

_MONTHS = {
    "en": [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
    "de": [
        "Januar",
        "Februar",
        "März",
        "April",
        "Mai",
        "Juni",
        "Juli",
        "August",
        "September",
        "Oktober",
        "November",
        "Dezember",
    ],
    "fr": [
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ],
}
_LANGUAGE = {"DE": "de", "GB": "en", "US": "en", "FR": "fr"}
_STREET_SHORT = {
    "Street": "St.",
    "Avenue": "Ave",
    "Drive": "Dr.",
    "Road": "Rd",
    "straße": "str.",
    "Straße": "Str.",
}


def _fmt_date(value: date, country: str, rng: random.Random) -> str:
    language = _LANGUAGE.get(country, "en")
    style = rng.randrange(3)
    if style == 0:
        return value.isoformat()
    if country == "DE":
        return (
            value.strftime("%d.%m.%Y")
            if style == 1
            else f"{value.day}. {_MONTHS['de'][value.month - 1]} {value.year}"
        )
    if country == "FR":
        return (
            value.strftime("%d/%m/%Y")
            if style == 1
            else f"{value.day} {_MONTHS['fr'][value.month - 1]} {value.year}"
        )
    if country == "US":
        return (
            value.strftime("%m/%d/%Y")
            if style == 1
            else f"{_MONTHS[language][value.month - 1]} {value.day}, {value.year}"
        )
    return (
        value.strftime("%d/%m/%Y")
        if style == 1
        else f"{value.day} {_MONTHS['en'][value.month - 1]} {value.year}"
    )


def _street(profile: ProfileFacts, rng: random.Random) -> str:
    line = profile.address_line1
    if rng.random() < 0.4:
        for long, short in _STREET_SHORT.items():
            if long in line:
                return line.replace(long, short, 1)
    return line


def _name(profile: ProfileFacts, rng: random.Random) -> str:
    name = profile.legal_name
    roll = rng.random()
    if roll < 0.25:
        return name.upper()
    if roll < 0.4 and name.endswith(" Ltd"):
        return name[:-4] + " Limited"
    if roll < 0.4 and name.endswith(" Inc."):
        return name[:-5] + ", Inc."
    spelled = {
        " GmbH": " Gesellschaft mit beschränkter Haftung",
        " SAS": " Société par actions simplifiée",
        " LLC": " Limited Liability Company",
    }
    for short, long in spelled.items():
        if roll > 0.85 and name.endswith(short):
            return name[: -len(short)] + long
    return name


def _place(profile: ProfileFacts) -> str:
    if profile.country == "US":
        return f"{_city(profile)}, {_state(profile)} {profile.postal_code}"
    if profile.country == "GB":
        return f"{_city(profile)} {profile.postal_code}"
    return f"{profile.postal_code} {_city(profile)}"


def _address_block(
    profile: ProfileFacts, rng: random.Random, *, country_line: bool | None = None
) -> list[Line]:
    block: list[Line] = [
        ("body", _name(profile, rng)),
        ("body", _street(profile, rng)),
        ("body", _place(profile)),
    ]
    if country_line if country_line is not None else rng.random() < 0.5:
        block.append(("body", _COUNTRY_NAME.get(profile.country, profile.country)))
    return block


def _d(value: date, p: ProfileFacts, rng: random.Random) -> str:
    return _fmt_date(value, p.country, rng)
