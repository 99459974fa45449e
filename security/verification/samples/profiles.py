"""Sample legal profiles in DE, GB, US and FR, and the other entities a wrong-name document is
issued to."""

from __future__ import annotations

import random

from security.verification.assist.facts import ProfileFacts

COUNTRIES = ("DE", "GB", "US", "FR")

_PREFIXES = (
    "Fabrikam",
    "Contoso",
    "Northwind",
    "Tailspin",
    "Adatum",
    "Litware",
    "Proseware",
    "Wingtip",
    "Woodgrove",
    "Alpine Ski",
    "Coho Vineyard",
    "Lucerne",
    "Trey Research",
    "Wide World",
    "Blue Yonder",
    "Fourth Coffee",
    "Graphic Design",
    "Humongous",
    "Relecloud",
    "Southridge",
    "VanArsdel",
    "Lamna",
    "Munson",
    "Datum",
)
_BUSINESS = (
    "Consulting",
    "Software",
    "Systems",
    "Solutions",
    "Digital",
    "Cloud Services",
    "Data",
    "Networks",
    "IT Services",
    "Technologies",
)
_SUFFIXES = {
    "DE": ("GmbH", "AG", "GmbH"),
    "GB": ("Ltd", "Limited", "Ltd", "PLC"),
    "US": ("Inc.", "LLC", "Corp.", "Inc."),
    "FR": ("SAS", "SARL", "SA"),
}
#: city, postal code, street, (US state)
_PLACES = {
    "DE": (
        ("München", "80802", "Leopoldstraße", ""),
        ("Berlin", "10115", "Invalidenstraße", ""),
        ("Hamburg", "20095", "Mönckebergstraße", ""),
        ("Köln", "50667", "Hohe Straße", ""),
        ("Frankfurt am Main", "60311", "Kaiserstraße", ""),
        ("Stuttgart", "70173", "Königstraße", ""),
    ),
    "GB": (
        ("Reading", "RG1 1AA", "High Street", ""),
        ("London", "EC1V 9HX", "Old Street", ""),
        ("Manchester", "M1 1AE", "Market Street", ""),
        ("Leeds", "LS1 4DY", "Park Row", ""),
        ("Bristol", "BS1 4DJ", "Queen Square", ""),
        ("Cambridge", "CB2 1TN", "Station Road", ""),
    ),
    "US": (
        ("Seattle", "98101", "Pine Street", "WA"),
        ("Austin", "78701", "Congress Avenue", "TX"),
        ("Denver", "80202", "Larimer Street", "CO"),
        ("Boston", "02110", "State Street", "MA"),
        ("Chicago", "60601", "Wacker Drive", "IL"),
        ("Portland", "97204", "Main Street", "OR"),
    ),
    "FR": (
        ("Paris", "75002", "rue de la Paix", ""),
        ("Lyon", "69002", "rue de la République", ""),
        ("Toulouse", "31000", "rue d'Alsace-Lorraine", ""),
        ("Nantes", "44000", "rue Crébillon", ""),
        ("Lille", "59000", "rue Faidherbe", ""),
        ("Bordeaux", "33000", "cours de l'Intendance", ""),
    ),
}
_EXONYMS = {"München": "Munich", "Köln": "Cologne"}
_COUNTRY_NAME = {"DE": "Deutschland", "GB": "United Kingdom", "US": "USA", "FR": "France"}
_SIBLING_WORD = {"DE": "Deutschland", "GB": "UK", "US": "America", "FR": "France"}


def sample_profile(
    seed: int, *, country: str | None = None, registration_number: bool = True
) -> ProfileFacts:
    """A legal profile in DE, GB, US or FR (by seed unless `country` is given)."""
    rng = random.Random(f"profile:{seed}")
    country = country or COUNTRIES[seed % len(COUNTRIES)]
    prefix = rng.choice(_PREFIXES)
    name = f"{prefix} {rng.choice(_BUSINESS)} {rng.choice(_SUFFIXES[country])}"
    city, postal, street, _state = rng.choice(_PLACES[country])
    number = rng.randint(1, 240)
    if city in _EXONYMS and rng.random() < 0.3:
        # Profiles kept in English name the city as English speakers do; the documents don't.
        city = _EXONYMS[city]
    if country == "FR":
        line1 = f"{number} {street}"
    elif country == "DE":
        line1 = f"{street} {number}"
    else:
        line1 = f"{number} {street}"
    return ProfileFacts(
        legal_name=name,
        address_line1=line1,
        city=city,
        postal_code=postal,
        country=country,
        registration_number=_registration_number(rng, country) if registration_number else "",
        contact_name=f"{rng.choice(('Anna', 'James', 'Marie', 'Lukas', 'Emily', 'Paul'))} "
        f"{rng.choice(('Müller', 'Smith', 'Martin', 'Schmidt', 'Johnson', 'Bernard'))}",
    )


def _registration_number(rng: random.Random, country: str) -> str:
    if country == "DE":
        return f"HRB {rng.randint(10000, 299999)}"
    if country == "GB":
        return f"{rng.randint(1000000, 14999999):08d}"
    if country == "FR":
        digits = f"{rng.randint(100000000, 999999999)}"
        return f"{digits[:3]} {digits[3:6]} {digits[6:]}"
    return f"{rng.randint(1000000, 9999999)}"


def _state(profile: ProfileFacts) -> str:
    for _city, postal, _street, state in _PLACES.get(profile.country, ()):
        if postal == profile.postal_code:
            return state
    return ""


def _city(profile: ProfileFacts) -> str:
    """The city as documents print it (the local name)."""
    native = {english: local for local, english in _EXONYMS.items()}
    return native.get(profile.city, profile.city)


def _other_entity(profile: ProfileFacts, rng: random.Random) -> ProfileFacts:
    """Another company: a different name (and number), or a sibling entity of the same group."""
    words = profile.legal_name.split()
    if rng.random() < 0.4 and len(words) >= 2:
        sibling = " ".join(words[:-1] + [_SIBLING_WORD.get(profile.country, "International"), words[-1]])
        name = sibling
    else:
        prefix = rng.choice([p for p in _PREFIXES if not profile.legal_name.startswith(p)])
        name = f"{prefix} {rng.choice(_BUSINESS)} {words[-1]}"
    number = profile.registration_number
    if number:
        digits = [c for c in number if c.isdigit()]
        changed = str((int("".join(digits)) + rng.randint(17, 9999)) % 10 ** len(digits)).zfill(len(digits))
        prefix = "".join(c for c in number if not c.isdigit()).strip()
        number = f"{prefix} {changed}".strip() if prefix else changed
    return ProfileFacts(
        legal_name=name,
        address_line1=profile.address_line1,
        city=profile.city,
        postal_code=profile.postal_code,
        country=profile.country,
        registration_number=number,
        contact_name=profile.contact_name,
    )
