"""The text of documents issued by companies: utility bills, bank statements and (accepted by no
check) quotations, per country."""

from __future__ import annotations

import random
from datetime import date, timedelta

from security.verification.assist.facts import ProfileFacts
from security.verification.samples.profiles import _PREFIXES, _city
from security.verification.samples.wording import Line, _address_block, _d, _name, _place, _street


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
