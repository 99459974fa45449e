"""Recognising a document's type from its text: one rule per kind of document (and country),
title phrases weighing 3 and keywords 1 each."""

from __future__ import annotations

import re
from dataclasses import dataclass

from security.choices import DocumentType

DT = DocumentType


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
