"""The text of documents issued by registers and authorities: registration extracts,
certificates of incorporation, tax registrations and business licences, per country."""

from __future__ import annotations

import random
from datetime import date, timedelta

from security.verification.assist.facts import ProfileFacts
from security.verification.samples.profiles import _city, _registration_number, _state
from security.verification.samples.wording import Line, _address_block, _d, _name, _place, _street


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
