"""Labelled sample documents for assisted verification: tests, the bench and the demo.

`sample_document(label, profile=…, today=…, seed=…)` renders a realistic document for a
profile: a PDF with a text layer (fpdf2) — a German Handelsregister extract, a Companies House
overview, a Kbis, a US certificate of good standing or of incorporation, a VAT/EIN registration,
a utility bill, a bank statement, a business licence or an unrelated quotation — in the
country's language and date formats, with a layout that varies with the seed. Labels:

- `good`: right type for the check, the profile's name and address, fresh (the only label
  expected to pass);
- `wrong_name`: issued to another company or a sibling entity ("… Deutschland GmbH");
- `old`: older than the type's age limit;
- `wrong_type`: a type the check does not accept (a bill for the business check, …);
- `unreadable`: a scan without text: a PNG/JPEG image, or a PDF holding only the image.
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass
from datetime import date, timedelta

from security.choices import CheckKind, DocumentType
from security.verification.assist import ProfileFacts

LABELS = ("good", "wrong_name", "old", "wrong_type", "unreadable")
COUNTRIES = ("DE", "GB", "US", "FR")
DT = DocumentType
CK = CheckKind

#: "Quotation" and other paper no check accepts (not a DocumentType).
OTHER = "other"

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


# --- Profiles -------------------------------------------------------------------------------------


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


# --- Documents ------------------------------------------------------------------------------------


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


# --- Content --------------------------------------------------------------------------------------

#: A line of content: (style, text); styles: title, head, body, small, gap, right.
Line = tuple[str, str]


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


def _d(value: date, p: ProfileFacts, rng: random.Random) -> str:
    return _fmt_date(value, p.country, rng)


def _registration_extract(p: ProfileFacts, issued: date, rng: random.Random) -> list[Line]:
    founded = issued - timedelta(days=rng.randint(800, 6000))
    regno = p.registration_number or _registration_number(rng, p.country)
    if p.country == "DE":
        court = _city(p).split()[0]
        return [
            ("title", "Handelsregister B"),
            ("head", f"des Amtsgerichts {court}"),
            ("right", f"Abruf vom {_d(issued, p, rng)}"),
            ("body", f"Nummer der Firma: {regno}"),
            ("body", "Aktueller Ausdruck"),
            ("gap", ""),
            ("body", f"1. Anzahl der bisherigen Eintragungen: {rng.randint(1, 12)}"),
            ("body", f"2. a) Firma: {_name(p, rng)}"),
            (
                "body",
                f"b) Sitz, Niederlassung, inländische Geschäftsanschrift: {_city(p)}, {_street(p, rng)}, "
                f"{_place(p)}",
            ),
            ("body", "c) Gegenstand des Unternehmens: Beratung und Entwicklung von Software"),
            (
                "body",
                f"3. Grund- oder Stammkapital: {rng.choice(('25.000,00', '50.000,00', '100.000,00'))} EUR",
            ),
            ("body", f"4. Geschäftsführer: {p.contact_name}, {_city(p)}"),
            ("body", "5. Prokura: -"),
            ("body", f"6. Tag der ersten Eintragung: {founded.strftime('%d.%m.%Y')}"),
        ]
    if p.country == "GB":
        return [
            ("small", "Companies House"),
            ("title", _name(p, rng).upper()),
            ("body", f"Company number {regno}"),
            ("head", "Company overview"),
            ("body", "Registered office address"),
            ("body", f"{_street(p, rng)}, {_city(p)}, England, {p.postal_code}"),
            ("body", "Company status Active"),
            ("body", "Company type Private limited Company"),
            ("body", f"Incorporated on {_d(founded, p, rng)}"),
            ("body", "Nature of business (SIC) 62020 - Information technology consultancy activities"),
            ("gap", ""),
            ("small", f"Retrieved on {_d(issued, p, rng)} from the Companies House register"),
        ]
    if p.country == "FR":
        return [
            ("head", f"Greffe du Tribunal de Commerce de {_city(p)}"),
            ("title", "Extrait Kbis"),
            ("body", "Registre du Commerce et des Sociétés"),
            ("right", f"Extrait du {_d(issued, p, rng)}"),
            ("gap", ""),
            ("body", f"Immatriculation au RCS, numéro {regno} R.C.S. {_city(p)}"),
            ("body", f"Date d'immatriculation : {founded.strftime('%d/%m/%Y')}"),
            ("body", f"Dénomination : {_name(p, rng)}"),
            ("body", "Forme juridique : Société par actions simplifiée"),
            ("body", f"Capital social : {rng.choice(('10 000,00', '37 000,00', '150 000,00'))} Euros"),
            ("body", f"Adresse du siège : {_street(p, rng)} {p.postal_code} {_city(p)}"),
            ("body", "Activité principale : Conseil en systèmes et logiciels informatiques"),
        ]
    state = _state(p) or "WA"
    return [
        ("head", f"State of {state}"),
        ("head", "Office of the Secretary of State"),
        ("title", "Certificate of Good Standing"),
        ("gap", ""),
        ("body", "I, the Secretary of State, do hereby certify that"),
        ("body", _name(p, rng)),
        ("body", f"File Number {regno}, was duly incorporated on {_d(founded, p, rng)}"),
        ("body", "and is in good standing and in existence under the laws of this State."),
        ("body", f"Principal office: {_street(p, rng)}, {_place(p)}, USA"),
        ("gap", ""),
        ("body", f"Issued on {_d(issued, p, rng)}"),
    ]


def _incorporation_certificate(p: ProfileFacts, issued: date, rng: random.Random) -> list[Line]:
    regno = p.registration_number or _registration_number(rng, p.country)
    return [
        ("head", "State of Delaware"),
        ("title", "Certificate of Incorporation"),
        ("body", f"of {_name(p, rng)}"),
        ("gap", ""),
        ("body", f"File number: {regno}"),
        (
            "body",
            "The undersigned, for the purpose of organizing a corporation under the General Corporation Law,",
        ),
        ("body", "certifies that the corporation was incorporated under the laws of the State of Delaware."),
        ("body", f"Principal place of business: {_street(p, rng)}, {_place(p)}, USA"),
        ("body", f"Date of incorporation: {_d(issued, p, rng)}"),
        ("small", "Division of Corporations, Secretary of State"),
    ]


def _tax_registration(p: ProfileFacts, issued: date, rng: random.Random) -> list[Line]:
    regno = p.registration_number
    if p.country == "DE":
        lines: list[Line] = [
            ("small", "Bundeszentralamt für Steuern · 53221 Bonn"),
            ("gap", ""),
            *_address_block(p, rng),
            ("right", f"Datum: {_d(issued, p, rng)}"),
            ("title", "Bestätigung der Umsatzsteuer-Identifikationsnummer"),
            (
                "body",
                f"Ihre Umsatzsteuer-Identifikationsnummer lautet: DE{rng.randint(100000000, 999999999)}",
            ),
            (
                "body",
                f"Steuernummer: {rng.randint(100, 999)}/{rng.randint(100, 999)}/{rng.randint(10000, 99999)}",
            ),
        ]
        if regno:
            lines.append(("body", f"Registernummer: {regno}"))
        return lines
    if p.country == "GB":
        lines = [
            ("small", "HM Revenue & Customs"),
            ("title", "VAT registration certificate"),
            (
                "body",
                f"VAT registration number {rng.randint(100, 999)} {rng.randint(1000, 9999)} "
                f"{rng.randint(10, 99)}",
            ),
            ("body", f"Date of issue {_d(issued, p, rng)}"),
            ("gap", ""),
            ("body", "Name and address of the business:"),
            *_address_block(p, rng),
            (
                "body",
                f"Effective date of registration {_d(issued - timedelta(days=rng.randint(30, 900)), p, rng)}",
            ),
        ]
        if regno:
            lines.append(("body", f"Company registration number {regno}"))
        return lines
    if p.country == "FR":
        lines = [
            ("small", "Direction générale des Finances publiques - Service des impôts des entreprises"),
            ("title", "Attestation d'immatriculation à la TVA"),
            *_address_block(p, rng),
            ("right", f"Délivré le {_d(issued, p, rng)}"),
            ("body", f"Numéro de TVA intracommunautaire : FR {rng.randint(10, 99)} {regno or '552 100 554'}"),
        ]
        if regno:
            lines.append(("body", f"SIREN : {regno}"))
        return lines
    lines = [
        ("small", "Department of the Treasury, Internal Revenue Service"),
        ("right", f"Date of this notice: {_d(issued, p, rng)}"),
        ("title", "CP 575 - EIN assigned"),
        *_address_block(p, rng),
        ("body", "Thank you for applying for an Employer Identification Number (EIN)."),
        ("body", f"We assigned you EIN {rng.randint(10, 99)}-{rng.randint(1000000, 9999999)}."),
    ]
    if regno:
        lines.append(("body", f"State file number on record: {regno}"))
    return lines


def _utility_bill(p: ProfileFacts, issued: date, rng: random.Random) -> list[Line]:
    start = issued - timedelta(days=rng.randint(35, 60))
    end = issued - timedelta(days=rng.randint(3, 10))
    kwh = rng.randint(800, 24000)
    if p.country == "DE":
        return [
            (
                "small",
                f"Stadtwerke {_city(p).split()[0]} GmbH · Postfach {rng.randint(10, 99)} "
                f"{rng.randint(10, 99)} "
                f"{rng.randint(10, 99)} · {p.postal_code[:2]}{rng.randint(100, 999)} {_city(p)}",
            ),
            *_address_block(p, rng, country_line=False),
            ("right", f"Rechnungsdatum: {_d(issued, p, rng)}"),
            ("title", rng.choice(("Stromrechnung", "Jahresabrechnung Strom"))),
            ("body", f"Kundennummer: {rng.randint(1000000, 9999999)}"),
            ("body", f"Zählernummer: 1ESY{rng.randint(10000000, 99999999)}"),
            ("body", f"Abrechnungszeitraum: {start.strftime('%d.%m.%Y')} - {end.strftime('%d.%m.%Y')}"),
            ("body", f"Lieferstelle: {_street(p, rng)}, {_place(p)}"),
            ("body", f"Verbrauch: {kwh} kWh"),
            ("body", f"Rechnungsbetrag: {kwh * 0.31:.2f} EUR".replace(".", ",")),
        ]
    if p.country == "FR":
        return [
            ("small", "Énergie Lumière SA - Service clients - TSA 20012 - 69901 Lyon Cedex"),
            *_address_block(p, rng, country_line=False),
            ("title", "Facture d'électricité"),
            ("right", f"Date de la facture : {_d(issued, p, rng)}"),
            ("body", f"Point de livraison : {rng.randint(10000000000000, 99999999999999)}"),
            ("body", f"Adresse de consommation : {_street(p, rng)}, {_place(p)}"),
            ("body", f"Période de facturation : {start.strftime('%d/%m/%Y')} au {end.strftime('%d/%m/%Y')}"),
            ("body", f"Consommation : {kwh} kWh"),
            ("body", f"Montant à payer : {kwh * 0.25:.2f} EUR".replace(".", ",")),
        ]
    supplier = "Puget Power & Light" if p.country == "US" else "Northern Grid Energy Ltd"
    currency = "$" if p.country == "US" else "£"
    return [
        ("small", supplier),
        ("title", rng.choice(("Your electricity bill", "Your energy bill"))),
        ("right", f"{rng.choice(('Bill date', 'Statement date'))}: {_d(issued, p, rng)}"),
        *_address_block(p, rng, country_line=rng.random() < 0.3),
        ("body", f"Account number {rng.randint(10000000, 99999999)}"),
        ("body", f"{'Service' if p.country == 'US' else 'Supply'} address: {_street(p, rng)}, {_place(p)}"),
        ("body", f"Billing period {_d(start, p, rng)} to {_d(end, p, rng)}"),
        ("body", f"Meter reading {rng.randint(10000, 99999)} - usage {kwh} kWh"),
        ("body", f"Amount due {currency}{kwh * 0.28:.2f}"),
    ]


def _bank_statement(p: ProfileFacts, issued: date, rng: random.Random) -> list[Line]:
    iban_country = {"DE": "DE", "GB": "GB", "FR": "FR"}.get(p.country, "")
    opening = rng.randint(1000, 90000)
    rows = [
        (
            issued - timedelta(days=rng.randint(1, 28)),
            rng.choice(("Invoice 4411", "Rent", "Salary", "Card payment")),
            rng.randint(-5000, 9000),
        )
        for _ in range(rng.randint(3, 8))
    ]
    if p.country == "DE":
        lines: list[Line] = [
            (
                "small",
                f"Volksbank {_city(p).split()[0]} eG · Postfach {rng.randint(1000, 9999)} · "
                f"{p.postal_code[:2]}{rng.randint(100, 999)} {_city(p)}",
            ),
            *_address_block(p, rng, country_line=False),
            ("title", "Kontoauszug"),
            ("right", f"Datum: {_d(issued, p, rng)}"),
            ("body", f"Kontoinhaber: {_name(p, rng)}"),
            (
                "body",
                f"IBAN {iban_country}{rng.randint(10, 99)} 7016 9466 {rng.randint(1000, 9999)} "
                f"{rng.randint(1000, 9999)} 00",
            ),
            ("body", "BIC GENODEF1M03"),
            ("body", f"Alter Kontostand: {opening},00 EUR"),
        ]
        lines += [("body", f"{d.strftime('%d.%m.%Y')}  {t}  {a},00") for d, t, a in rows]
        lines.append(("body", f"Neuer Kontostand: {opening + sum(a for _, _, a in rows)},00 EUR"))
        return lines
    if p.country == "FR":
        lines = [
            ("small", "Banque Populaire - BP 110 - 75002 Paris"),
            *_address_block(p, rng, country_line=False),
            ("title", "Relevé de compte"),
            ("right", f"Date : {_d(issued, p, rng)}"),
            ("body", f"Titulaire du compte : {_name(p, rng)}"),
            ("body", f"IBAN FR76 3000 4000 {rng.randint(1000, 9999)} {rng.randint(1000, 9999)} 0000 000"),
            ("body", f"Ancien solde : {opening},00 EUR"),
        ]
        lines += [("body", f"{d.strftime('%d/%m/%Y')}  {t}  {a},00") for d, t, a in rows]
        lines.append(("body", f"Nouveau solde : {opening + sum(a for _, _, a in rows)},00 EUR"))
        return lines
    bank = (
        "Evergreen National Bank, PO Box 3010, Portland, OR 97208"
        if p.country == "US"
        else ("Albion Business Bank plc, PO Box 150, Leeds LS1 1UR")
    )
    money = "$" if p.country == "US" else "£"
    lines = [
        ("small", bank),
        ("title", rng.choice(("Business account statement", "Statement of account"))),
        ("right", f"Statement date: {_d(issued, p, rng)}"),
        *_address_block(p, rng),
        ("body", f"Account name: {_name(p, rng)}"),
        (
            "body",
            f"Sort code 40-{rng.randint(10, 99)}-{rng.randint(10, 99)}  Account number "
            f"{rng.randint(10000000, 99999999)}"
            if p.country != "US"
            else f"Routing number 0{rng.randint(10000000, 99999999)}  Account number "
            f"{rng.randint(1000000, 9999999)}",
        ),
        ("body", f"Opening balance {money}{opening:,}.00"),
    ]
    lines += [("body", f"{_d(d, p, rng)}  {t}  {a:,}.00") for d, t, a in rows]
    lines.append(("body", f"Closing balance {money}{opening + sum(a for _, _, a in rows):,}.00"))
    return lines


def _business_licence(p: ProfileFacts, issued: date, rng: random.Random) -> list[Line]:
    regno = p.registration_number
    if p.country == "DE":
        lines: list[Line] = [
            ("head", f"Stadt {_city(p)} - Gewerbeamt"),
            ("title", "Gewerbeanmeldung"),
            ("right", f"Ausgestellt am {_d(issued, p, rng)}"),
            ("body", f"Name des Betriebs: {_name(p, rng)}"),
            ("body", f"Betriebsstätte: {_street(p, rng)}, {_place(p)}"),
            ("body", "Angemeldete Tätigkeit: Softwareentwicklung und IT-Beratung"),
        ]
    else:
        word = "License" if p.country == "US" else "Licence"
        lines = [
            ("head", f"City of {_city(p)}"),
            ("title", f"Business {word}"),
            ("body", f"{word} number BL-{rng.randint(100000, 999999)}"),
            ("body", f"Licensee: {_name(p, rng)}"),
            ("body", f"Business location: {_street(p, rng)}, {_place(p)}"),
            ("body", f"Date of issue: {_d(issued, p, rng)}"),
            ("body", "Permitted activity: computer programming and consultancy"),
        ]
    if regno:
        lines.append(("body", f"Registration: {regno}"))
    return lines


def _quotation(p: ProfileFacts, issued: date, rng: random.Random) -> list[Line]:
    title = {"DE": "Angebot", "FR": "Devis"}.get(p.country, "Quotation")
    lines: list[Line] = [
        ("small", f"{rng.choice(_PREFIXES)} Office Supplies"),
        ("title", f"{title} Nr. {rng.randint(1000, 9999)}"),
        *_address_block(p, rng),
        ("right", f"{_d(issued, p, rng)}"),
    ]
    for _ in range(rng.randint(3, 6)):
        lines.append(
            (
                "body",
                f"{rng.randint(1, 20)} x "
                f"{rng.choice(('Desk chair', 'Monitor 27in', 'Docking station', 'Paper A4'))}"
                f"  {rng.randint(20, 900)}.00",
            )
        )
    lines.append(("body", "Thank you for your enquiry."))
    return lines


# --- Rendering ------------------------------------------------------------------------------------

_FONTS = ("helvetica", "times", "courier")


def _latin1(text: str) -> str:
    return text.replace("·", "\xb7").encode("latin-1", "replace").decode("latin-1")


def _render_pdf(lines: list[Line], rng: random.Random) -> bytes:
    from fpdf import FPDF  # noqa: PLC0415 - only where samples are generated

    pdf = FPDF(format=rng.choice(("A4", "Letter")))
    pdf.set_creator(rng.choice(("Registerportal", "BillingSuite 7.2", "StatementServer", "Microsoft Word")))
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    font = rng.choice(_FONTS)
    size = rng.choice((9, 10, 11))
    margin = rng.randint(15, 28)
    pdf.set_left_margin(margin)
    pdf.set_y(rng.randint(12, 30))
    width = pdf.w - 2 * margin
    two_columns = rng.random() < 0.5
    for style, text in lines:
        text = _latin1(text)
        if style == "gap":
            pdf.ln(rng.randint(3, 8))
            continue
        if style == "title":
            pdf.set_font(font, "B", size + rng.choice((4, 6, 8)))
            pdf.multi_cell(
                width, size * 0.8, text, align=rng.choice(("L", "C")), new_x="LMARGIN", new_y="NEXT"
            )
            pdf.ln(2)
        elif style == "head":
            pdf.set_font(font, "B", size + 1)
            pdf.multi_cell(width, size * 0.6, text, new_x="LMARGIN", new_y="NEXT")
        elif style == "small":
            pdf.set_font(font, "", size - 2)
            pdf.multi_cell(width, size * 0.5, text, new_x="LMARGIN", new_y="NEXT")
        elif style == "right" and two_columns:
            # Beside the next line, as letters print the date next to the address block.
            pdf.set_font(font, "", size)
            y = pdf.get_y()
            pdf.set_x(pdf.w / 2)
            pdf.cell(width / 2, size * 0.55, text, align="R")
            pdf.set_xy(margin, y)
        elif style == "right":
            pdf.set_font(font, "", size)
            pdf.multi_cell(width, size * 0.6, text, align="R", new_x="LMARGIN", new_y="NEXT")
        else:
            pdf.set_font(font, "", size)
            pdf.multi_cell(width, size * 0.55, text, new_x="LMARGIN", new_y="NEXT")
    if rng.random() < 0.3:
        pdf.add_page()
        pdf.set_font(font, "", size - 1)
        pdf.multi_cell(
            width, size * 0.5, "Page 2 - terms and notes. This document was generated electronically."
        )
    return bytes(pdf.output())


def _render_scan(lines: list[Line], rng: random.Random) -> tuple[bytes, str]:
    """The document as a scan: an image with no text layer (PNG, JPEG, or a PDF holding it)."""
    from PIL import Image, ImageDraw, ImageFilter  # noqa: PLC0415

    dpi = rng.choice((72, 100, 150, 200, 300))
    image = Image.new("L", (850, 1100), color=rng.randint(230, 255))
    draw = ImageDraw.Draw(image)
    y = 60
    for style, text in lines:
        if style == "gap":
            y += 14
            continue
        draw.text((60 if style != "right" else 480, y), text, fill=rng.randint(0, 60))
        y += 22 if style == "title" else 16
    image = image.rotate(rng.uniform(-2.5, 2.5), fillcolor=235).filter(
        ImageFilter.GaussianBlur(rng.uniform(0.4, 1.2))
    )
    kind = rng.choice(("png", "jpeg", "pdf"))
    buffer = io.BytesIO()
    if kind == "png":
        image.save(buffer, format="PNG", dpi=(dpi, dpi))
        return buffer.getvalue(), "png"
    if kind == "jpeg":
        image.save(buffer, format="JPEG", quality=rng.randint(40, 85), dpi=(dpi, dpi))
        return buffer.getvalue(), "jpeg"
    from fpdf import FPDF  # noqa: PLC0415

    image.save(buffer, format="PNG")
    pdf = FPDF()
    pdf.set_creator("Scanner ScanSnap")
    pdf.add_page()
    pdf.image(io.BytesIO(buffer.getvalue()), x=0, y=0, w=pdf.w)
    return bytes(pdf.output()), "pdf"
