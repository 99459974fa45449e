"""Assisted verification scoring (spec/accounts.md §4.2): both worked examples, each signal of the
scoring table, the bands, fixes on every finding that costs points, and the labelled samples."""

from __future__ import annotations

import io
import stat
from datetime import date

import pytest
from fpdf import FPDF
from PIL import Image
from pypdf import PdfReader, PdfWriter

from accounts.models import Organization
from security.choices import CheckKind, DocumentType, Likelihood
from security.verification.assist.facts import ProfileFacts
from security.verification.assist.policy import ALLOWED_TYPES, TEXT_LAYER_FIX, band_for
from security.verification.assist.scoring import assess, assess_extraction
from security.verification.extract import Extraction
from security.verification.normalize import (
    find_dates,
    issue_date,
    name_similarity,
    normalize_address,
    normalize_name,
)
from security.verification.samples.documents import LABELS, labelled_set, sample_document
from security.verification.samples.profiles import COUNTRIES, sample_profile

TODAY = date(2025, 3, 5)
FABRIKAM = ProfileFacts(
    legal_name="Fabrikam Consulting GmbH",
    address_line1="Leopoldstraße 12",
    city="München",
    postal_code="80802",
    country="DE",
    registration_number="",
)
CONTOSO_UK = ProfileFacts(
    legal_name="Contoso Ltd",
    address_line1="12 High Street",
    city="Reading",
    postal_code="RG1 1AA",
    country="GB",
    registration_number="08123456",
)


def _pdf(*pages: str, producer: str = "") -> bytes:
    pdf = FPDF()
    if producer:
        pdf.set_producer(producer)
    pdf.set_font("helvetica", size=10)
    for text in pages:
        pdf.add_page()
        for line in text.strip().splitlines():
            pdf.cell(0, 6, line.strip(), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _scan_page() -> bytes:
    image = Image.new("L", (600, 800), color=250)
    png = io.BytesIO()
    image.save(png, format="PNG")
    pdf = FPDF()
    pdf.add_page()
    pdf.image(io.BytesIO(png.getvalue()), x=0, y=0, w=pdf.w)
    return bytes(pdf.output())


def _join_pdfs(*documents: bytes) -> bytes:
    writer = PdfWriter()
    for document in documents:
        writer.append(PdfReader(io.BytesIO(document)))
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _text(text: str, **kw) -> Extraction:
    pages = [text]
    defaults = {
        "pages": pages,
        "page_count": 1,
        "ocr_used": False,
        "ocr_confidence": None,
        "producer": "",
        "image_dpi": None,
    }
    defaults.update(kw)
    return Extraction(**defaults)


def _assess_text(
    text: str,
    *,
    check=CheckKind.BUSINESS,
    declared=DocumentType.REGISTRATION_EXTRACT,
    profile=CONTOSO_UK,
    today=TODAY,
    **kw,
):
    return assess_extraction(
        _text(text, **kw), declared_type=declared, check_kind=check, profile=profile, today=today
    )


def _finding(assessment, code):
    matches = [f for f in assessment.findings if f.code == code]
    assert matches, f"no {code} in {[f.code for f in assessment.findings]}"
    return matches[0]


def _codes(assessment) -> list[str]:
    return [f.code for f in assessment.findings]


@pytest.fixture
def tesseract_conf_72(monkeypatch, tmp_path):
    """A `tesseract` on PATH that reads every scanned page with confidence 72."""
    header = "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext"
    rows = [
        "5\t1\t1\t1\t1\t1\t10\t10\t50\t10\t70\tGesellschafterliste",
        "5\t1\t1\t1\t1\t2\t70\t10\t50\t10\t74\tSeite",
    ]
    script = tmp_path / "tesseract"
    script.write_text("#!/bin/sh\ncat > /dev/null\ncat <<'EOF'\n" + "\n".join([header, *rows]) + "\nEOF\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{tmp_path}:/usr/bin:/bin")


@pytest.fixture
def no_ocr(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))


# --- The worked examples of spec §4.2 ------------------------------------------------------------

HANDELSREGISTER_PAGE = """
Handelsregister B des Amtsgerichts München
Abruf vom 20.01.2025
Aktueller Ausdruck
1. Anzahl der bisherigen Eintragungen: 4
2. a) Firma: Fabrikam Consulting Deutschland GmbH
b) Sitz, Niederlassung, inländische Geschäftsanschrift: Leopoldstraße 12, 80802 München
c) Gegenstand des Unternehmens: Beratung
3. Grund- oder Stammkapital: 25.000,00 EUR
"""


def test_worked_example_legal_entity_certificate_needs_review(tesseract_conf_72):
    """Example 1: a Handelsregister extract of 'Fabrikam Consulting Deutschland GmbH' whose
    second page is a scan read by OCR with confidence 72."""
    data = _join_pdfs(_pdf(HANDELSREGISTER_PAGE), _scan_page())

    result = assess(
        data=data,
        file_type="pdf",
        declared_type=DocumentType.REGISTRATION_EXTRACT,
        check_kind=CheckKind.BUSINESS,
        profile=FABRIKAM,
        today=TODAY,
    )

    data = result.as_dict()
    assert {key: data[key] for key in ("check", "score", "band", "findings")} == {
        "check": "business",
        "score": 70,
        "band": "Needs review",
        "findings": [
            {
                "code": "DOC_TYPE_OK",
                "severity": "info",
                "detail": "Handelsregister extract (DE) recognised",
                "points": 25,
            },
            {
                "code": "NAME_PARTIAL",
                "severity": "warning",
                "detail": "Document name 'Fabrikam Consulting Deutschland GmbH' vs profile 'Fabrikam "
                "Consulting GmbH' "
                "(similarity 88)",
                "points": 15,
                "fix": "Update the legal name in your profile to match the register exactly, or upload "
                "the extract "
                "for the correct entity.",
            },
            {
                "code": "ADDRESS_MATCH",
                "severity": "info",
                "detail": "Country, postal code, city and street match",
                "points": 25,
            },
            {
                "code": "REGNO_MISSING",
                "severity": "info",
                "detail": "No registration number on profile to compare",
                "points": 0,
            },
            {"code": "AGE_OK", "severity": "info", "detail": "Issued 2025-01-20 (44 days old)", "points": 10},
            {
                "code": "OCR_LOW",
                "severity": "warning",
                "detail": "Page 2 OCR confidence 72",
                "points": -5,
                "fix": "Scan the page again at 300 dpi, straight and in focus, or upload the PDF from "
                "the registry, "
                "which has a text layer.",
            },
        ],
    }
    assert result.band == Likelihood.NEEDS_REVIEW
    assert result.detected_doc_type == DocumentType.REGISTRATION_EXTRACT
    assert result.page_count == 2
    assert result.readable is True


def test_worked_example_old_utility_bill_to_a_po_box_is_unlikely():
    """Example 2: a utility bill 140 days old, addressed to a P.O. box:
    25 + 30 + 10 − 25 − 20 = 20 → Unlikely."""
    profile = ProfileFacts(
        legal_name="Contoso Software GmbH",
        address_line1="Marienplatz 8",
        city="Munich",
        postal_code="80331",
        country="DE",
    )
    bill = """
    Stadtwerke München GmbH · Postfach 20 22 22 · 80287 München
    Contoso Software GmbH
    Postfach 10 12 34
    80331 München
    Stromrechnung
    Rechnungsdatum: 16.10.2024
    Kundennummer: 4711001
    Abrechnungszeitraum: 01.09.2023 - 31.08.2024
    Verbrauch: 12345 kWh
    Rechnungsbetrag: 3.827,95 EUR
    """

    result = assess(
        data=_pdf(bill),
        file_type="pdf",
        declared_type=DocumentType.UTILITY_BILL,
        check_kind=CheckKind.ADDRESS,
        profile=profile,
        today=TODAY,
    )

    points = {f.code: f.points for f in result.findings}
    assert points == {
        "DOC_TYPE_OK": 25,
        "NAME_MATCH": 30,
        "ADDRESS_PARTIAL": 10,
        "REGNO_MISSING": 0,
        "DOC_TOO_OLD": -20,
        "PO_BOX_NOT_ALLOWED": -25,
    }
    assert result.score == 20
    assert result.band == Likelihood.UNLIKELY
    assert result.as_dict()["band"] == "Unlikely — fix before submitting"
    too_old = _finding(result, "DOC_TOO_OLD")
    assert too_old.detail == "Issued 2024-10-16 (140 days old; a utility bill must be at most 90 days old)"
    assert too_old.fix == "Upload a utility bill issued within the last 90 days."
    po_box = _finding(result, "PO_BOX_NOT_ALLOWED")
    assert po_box.detail == "The address on the document is a P.O. box ('Postfach 10 12 34')"
    assert po_box.fix.startswith("Upload a document that shows your street address")
    address = _finding(result, "ADDRESS_PARTIAL")
    assert address.detail == (
        "Country and postal code match; not found on the document: city Munich and street Marienplatz 8"
    )


# --- Signals -------------------------------------------------------------------------------------

REGISTER = """Companies House
Company overview
{name}
Company number {number}
Registered office address
{street}, {city}, England, {postal}
Company status Active
Retrieved on {issued}
"""


def _register(
    name="CONTOSO LTD",
    number="08123456",
    street="12 High St.",
    city="Reading",
    postal="RG1 1AA",
    issued="14 February 2025",
):
    return REGISTER.format(name=name, number=number, street=street, city=city, postal=postal, issued=issued)


def test_full_match_scores_100_and_is_likely():
    result = _assess_text(_register())

    assert [(f.code, f.points) for f in result.findings] == [
        ("DOC_TYPE_OK", 25),
        ("NAME_MATCH", 30),
        ("ADDRESS_MATCH", 25),
        ("REGNO_MATCH", 10),
        ("AGE_OK", 10),
    ]
    assert result.score == 100
    assert result.band == Likelihood.LIKELY
    assert _finding(result, "DOC_TYPE_OK").detail == "Companies House register extract (GB) recognised"


@pytest.mark.parametrize(
    ("document_name", "code", "points"),
    [
        ("Contoso Limited", "NAME_MATCH", 30),  # legal suffix variants are the same name
        ("CONTOSO LTD.", "NAME_MATCH", 30),
        ("Contoso UK Ltd", "NAME_PARTIAL", 15),  # a word more: another entity, never a full match
        ("Contoso Pharmaceuticals Ltd", "NAME_MISMATCH", 0),
        ("Northwind Traders Ltd", "NAME_MISMATCH", 0),
    ],
)
def test_legal_name_similarity_bands(document_name, code, points):
    result = _assess_text(_register(name=document_name))

    finding = _finding(result, code)
    assert finding.points == points
    assert (finding.fix != "") == (points < 30)


def test_name_similarity_is_token_based_and_ignores_legal_form_and_punctuation():
    assert name_similarity("Fabrikam Consulting Deutschland GmbH", "Fabrikam Consulting GmbH") == 88
    assert name_similarity("Consulting Fabrikam GmbH", "Fabrikam Consulting") == 100
    assert name_similarity("Tailspin Toys S.A.", "TAILSPIN TOYS SA") == 100
    assert name_similarity("Fabrikam GmbH & Co. KG", "Fabrikam") == 100
    assert name_similarity("Fabrikam Consultng GmbH", "Fabrikam Consulting GmbH") >= 95  # a typo
    assert name_similarity("Fabrikam", "Fabrikam Consulting") < 85  # not a subset pass


def test_normalisation():
    assert normalize_name("Contoso Ltd.") == "contoso"
    assert normalize_name("Société Générale S.A.") == "societe generale"
    assert normalize_name("Fabrikam GmbH & Co. KG") == "fabrikam"
    assert normalize_name("Northwind Traders, Inc.") == "northwind traders"
    assert normalize_name("Fabrikam Gesellschaft mit beschränkter Haftung") == "fabrikam"
    assert normalize_name("Tailspin Société par actions simplifiée") == "tailspin"
    assert normalize_name("Lamna Limited Liability Company") == "lamna"
    assert normalize_name("Limited") == "limited"  # a name is never emptied
    assert normalize_address("12 High St.") == "12 high street"
    assert normalize_address("Leopoldstr. 12") == "leopoldstrasse 12"
    assert normalize_address("Leopoldstraße 12") == "leopoldstrasse 12"
    assert normalize_address("1200 Congress Ave, Suite 5") == "1200 congress avenue suite 5"


def test_address_components_each_earn_their_points():
    # Another street and city, the same postal code and country: 10 of 25.
    result = _assess_text(_register(street="99 Station Road", city="Newbury"))

    finding = _finding(result, "ADDRESS_PARTIAL")
    assert finding.points == 10
    assert finding.detail == (
        "Country and postal code match; not found on the document: city Reading and street 12 High Street"
    )
    assert finding.fix == (
        "Upload a document that shows your full business address as on your profile "
        "(12 High Street, RG1 1AA Reading, GB), or correct the address in your legal profile."
    )


def test_street_needs_the_house_number():
    result = _assess_text(_register(street="120 High Street"))

    assert _finding(result, "ADDRESS_PARTIAL").points == 15  # country+postal 10, city 5, street 0


def test_nothing_of_the_address_matches():
    text = _register(street="1 Rue de Rivoli", city="Paris", postal="75001").replace("England", "France")

    finding = _finding(_assess_text(text), "ADDRESS_MISMATCH")
    assert (finding.severity, finding.points) == ("error", 0)


def test_registration_number_exact_match_tolerates_spacing_only():
    assert _finding(_assess_text(_register(number="08 123 456")), "REGNO_MATCH").points == 10
    missing = _finding(_assess_text(_register(number="08123457")), "REGNO_NOT_FOUND")
    assert missing.points == 0
    assert missing.fix == (
        "Upload a document that shows registration number 08123456, or correct the registration number "
        "in your "
        "legal profile."
    )
    # Part of a longer number is not a match.
    assert "REGNO_NOT_FOUND" in _codes(_assess_text(_register(number="081234567")))


def test_registration_number_is_not_compared_on_documents_that_do_not_carry_one():
    bill = """Your electricity bill
    Bill date: 20 February 2025
    Contoso Ltd
    12 High Street
    Reading RG1 1AA
    Meter reading 12345 - usage 800 kWh
    Amount due 224.00"""

    result = _assess_text(bill, check=CheckKind.ADDRESS, declared=DocumentType.UTILITY_BILL)

    assert _finding(result, "REGNO_NOT_ON_DOCUMENT_TYPE").points == 0
    assert result.score == 90
    assert result.band == Likelihood.LIKELY


@pytest.mark.parametrize(
    ("issued", "code", "points"),
    [
        ("2024-03-06", "AGE_OK", 10),  # 364 days
        ("2024-03-04", "DOC_TOO_OLD", -20),  # 366 days
        ("2025-04-01", "DATE_IN_FUTURE", 0),
    ],
)
def test_registration_extract_age_limit_is_12_months(issued, code, points):
    result = _assess_text(_register(issued=issued))

    assert _finding(result, code).points == points


@pytest.mark.parametrize(
    ("issued", "code"), [("05.12.2024", "AGE_OK"), ("04.12.2024", "DOC_TOO_OLD")]
)  # 90, 91 days
def test_utility_bill_age_limit_is_90_days(issued, code):
    bill = f"""Stromrechnung
    Rechnungsdatum: {issued}
    Contoso Ltd
    12 High Street
    Reading RG1 1AA
    Verbrauch: 800 kWh
    Zählerstand 4711"""

    result = _assess_text(bill, check=CheckKind.ADDRESS, declared=DocumentType.UTILITY_BILL)

    assert code in _codes(result)


def test_missing_issue_date_costs_the_age_points_and_says_what_to_upload():
    text = "\n".join(line for line in _register().splitlines() if "Retrieved" not in line)

    finding = _finding(_assess_text(text), "DATE_NOT_FOUND")
    assert finding.points == 0
    assert (
        finding.fix
        == "Upload a business register extract that shows its issue date and is at most 12 months old."
    )


def test_certificate_of_incorporation_does_not_go_stale():
    certificate = """CERTIFICATE OF INCORPORATION OF A PRIVATE LIMITED COMPANY
    Company Number 08123456
    The Registrar of Companies for England and Wales, hereby certifies that
    CONTOSO LTD
    is this day incorporated under the Companies Act 2006
    Given at Companies House, Cardiff, on 3rd March 2016"""

    result = _assess_text(certificate, declared=DocumentType.INCORPORATION_CERTIFICATE)

    assert _finding(result, "AGE_OK").detail == (
        "Issued 2016-03-03; a certificate of incorporation has no age limit"
    )
    # No address on the certificate: 25 + 30 + 0 + 10 + 10.
    assert result.score == 75


def test_date_formats():
    text = (
        "2025-01-20 | 20.01.2025 | 20 January 2025 | January 20, 2025 | 20. Januar 2025 | 20 janvier 2025 | "
        "20/01/2025"
    )

    assert [d for _, d in find_dates(text)] == [date(2025, 1, 20)] * 7
    assert [d for _, d in find_dates("01/20/2025", month_first=True)] == [date(2025, 1, 20)]
    assert [d for _, d in find_dates("31.02.2025 and 2025-13-01")] == []


def test_issue_date_prefers_a_label_and_skips_due_dates():
    text = "Payment due date: 2025-03-01\nIncorporated on 1 May 2010\nStatement date: 12 February 2025"

    assert issue_date(text, today=TODAY) == (date(2025, 2, 12), True)
    assert issue_date("Period 01.01.2025 - 31.01.2025", today=TODAY) == (date(2025, 1, 31), False)


def test_document_type_not_allowed_for_the_check():
    result = _assess_text(_register(), check=CheckKind.IDENTITY, declared=DocumentType.GOVERNMENT_ID)

    finding = _finding(result, "DOC_TYPE_NOT_ALLOWED")
    assert finding.points == 0
    assert finding.detail == (
        "Companies House register extract recognised (declared as government id); not accepted for the "
        "identity (primary contact) check"
    )
    assert finding.fix == "Upload a government id instead."


def test_unrecognised_document_type():
    text = "Quotation Nr. 4411\nContoso Ltd\n12 High Street\nReading RG1 1AA\n3 x Monitor 27in 240.00"

    finding = _finding(_assess_text(text), "DOC_TYPE_UNKNOWN")
    assert finding.points == 0
    assert "business register extract" in finding.fix


def test_allowed_types_cover_every_check():
    assert set(ALLOWED_TYPES) == set(CheckKind)
    assert DocumentType.UTILITY_BILL in ALLOWED_TYPES[CheckKind.ADDRESS]
    assert DocumentType.UTILITY_BILL not in ALLOWED_TYPES[CheckKind.BUSINESS]
    assert ALLOWED_TYPES[CheckKind.EMAIL] == frozenset()


def test_identity_check_compares_the_primary_contact():
    profile = ProfileFacts(
        legal_name="Contoso Ltd",
        address_line1="12 High Street",
        city="Reading",
        postal_code="RG1 1AA",
        country="GB",
        contact_name="Anna Müller",
    )
    passport = "\n".join(
        [
            "PASSPORT",
            "United Kingdom",
            "Surname MÜLLER",
            "Given names ANNA",
            "Name: Anna Müller",
            "Date of issue 02/02/2022",
        ]
    )

    result = _assess_text(
        passport, check=CheckKind.IDENTITY, declared=DocumentType.GOVERNMENT_ID, profile=profile
    )

    assert _finding(result, "NAME_MATCH").detail == (
        "Document name 'Anna Müller' matches profile 'Anna Müller' (similarity 100)"
    )


def test_po_box_in_a_senders_letterhead_does_not_count():
    statement = """Albion Business Bank plc, PO Box 150, Leeds LS1 1UR
    Statement of account
    Statement date: 20 February 2025
    Contoso Ltd
    12 High Street
    Reading RG1 1AA
    Opening balance 1,000.00
    Closing balance 2,000.00"""

    result = _assess_text(statement, check=CheckKind.ADDRESS, declared=DocumentType.BANK_STATEMENT)

    assert "PO_BOX_NOT_ALLOWED" not in _codes(result)
    assert result.band == Likelihood.LIKELY


# --- Readability and integrity -------------------------------------------------------------------


def test_image_without_ocr_is_unreadable_and_says_to_upload_the_registry_pdf(no_ocr):
    image = Image.new("L", (300, 300), color=255)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", dpi=(72, 72))

    result = assess(
        data=buffer.getvalue(),
        file_type="png",
        declared_type=DocumentType.REGISTRATION_EXTRACT,
        check_kind=CheckKind.BUSINESS,
        profile=CONTOSO_UK,
        today=TODAY,
    )

    unreadable = _finding(result, "UNREADABLE")
    assert unreadable.points == -30
    assert unreadable.detail == "No text could be read: the file is an image and no OCR engine is installed"
    assert unreadable.fix == TEXT_LAYER_FIX == "Upload the PDF from the registry, which has a text layer."
    assert _finding(result, "LOW_RESOLUTION").detail == "Image resolution 72 dpi (at least 150 dpi needed)"
    assert result.readable is False
    # Clamped: the findings add up to -30, the score is 0.
    assert result.points_total == -30
    assert result.score == 0
    assert result.band == Likelihood.UNLIKELY


def test_low_ocr_confidence_is_unreadable_below_60():
    result = _assess_text(_register(), page_ocr_confidence=(55.0,), ocr_used=True, ocr_confidence=55.0)

    finding = _finding(result, "UNREADABLE")
    assert (finding.points, finding.detail) == (-30, "Page 1 OCR confidence 55")
    assert result.score == 70
    assert result.readable is False


def test_edit_software_producer_is_a_warning():
    result = assess(
        data=_pdf(_register(), producer="Adobe Photoshop 25.0"),
        file_type="pdf",
        declared_type=DocumentType.REGISTRATION_EXTRACT,
        check_kind=CheckKind.BUSINESS,
        profile=CONTOSO_UK,
        today=TODAY,
    )

    finding = _finding(result, "EDIT_SOFTWARE")
    assert finding.severity == "warning"
    assert "Adobe Photoshop 25.0" in finding.detail
    assert (
        finding.fix
        == "Upload the document exactly as the issuer provided it, not a version saved from an editor."
    )


def test_pdf_page_without_text_layer_and_without_ocr_is_named(no_ocr):
    data = _join_pdfs(_pdf(_register()), _scan_page())

    result = assess(
        data=data,
        file_type="pdf",
        declared_type=DocumentType.REGISTRATION_EXTRACT,
        check_kind=CheckKind.BUSINESS,
        profile=CONTOSO_UK,
        today=TODAY,
    )

    finding = _finding(result, "PAGES_NOT_READ")
    assert finding.detail == "Page 2 has no text layer and no OCR engine is installed; not read"
    assert finding.fix == TEXT_LAYER_FIX
    assert result.score == 100


# --- Bands, sums, fixes --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("score", "band"),
    [
        (100, "likely"),
        (80, "likely"),
        (79, "needs_review"),
        (50, "needs_review"),
        (49, "unlikely"),
        (0, "unlikely"),
    ],
)
def test_bands(score, band):
    assert band_for(score) == band


@pytest.fixture(scope="module")
def sample_assessments():
    documents = labelled_set(60, today=TODAY, seed=1000)
    return [
        (
            document,
            assess(
                data=document.data,
                file_type=document.file_type,
                declared_type=document.declared_type,
                check_kind=document.check_kind,
                profile=document.profile,
                today=TODAY,
            ),
        )
        for document in documents
    ]


def test_findings_add_up_to_the_score_and_every_lost_point_has_a_fix(sample_assessments):
    for document, result in sample_assessments:
        total = sum(f.points for f in result.findings)
        assert result.points_total == total, document.description
        assert result.score == max(0, min(100, total)), document.description
        assert result.band == band_for(result.score)
        for finding in result.findings:
            assert finding.severity in ("info", "warning", "error")
            if finding.points < 0 or finding.severity != "info":
                assert finding.fix.endswith("."), (document.description, finding)
        stored = result.as_dict()
        assert stored["score"] == result.score
        assert [f["points"] for f in stored["findings"]] == [f.points for f in result.findings]


@pytest.mark.parametrize("country", COUNTRIES)
@pytest.mark.parametrize("label", LABELS)
def test_labelled_samples_pass_only_when_good(label, country, no_ocr):
    for seed in range(3):
        profile = sample_profile(seed, country=country, registration_number=seed != 1)
        document = sample_document(label, profile=profile, today=TODAY, seed=seed)
        assert document.expected_pass is (label == "good")

        result = assess(
            data=document.data,
            file_type=document.file_type,
            declared_type=document.declared_type,
            check_kind=document.check_kind,
            profile=profile,
            today=TODAY,
        )

        assert (result.band == Likelihood.LIKELY) is document.expected_pass, (
            document.description,
            [f.as_dict() for f in result.findings],
        )
        expected_code = {
            "wrong_name": {"NAME_PARTIAL", "NAME_MISMATCH"},
            "old": {"DOC_TOO_OLD"},
            "wrong_type": {"DOC_TYPE_NOT_ALLOWED", "DOC_TYPE_UNKNOWN"},
            "unreadable": {"UNREADABLE"},
        }.get(label)
        if expected_code:
            assert expected_code & set(_codes(result)), document.description


def test_samples_vary_with_the_seed():
    profile = sample_profile(3)
    first = sample_document("good", profile=profile, today=TODAY, seed=1)
    second = sample_document("good", profile=profile, today=TODAY, seed=2)

    assert first.data != second.data
    assert sample_document("good", profile=profile, today=TODAY, seed=1).description == first.description
    assert {sample_profile(n).country for n in range(8)} == set(COUNTRIES)


def test_sample_for_a_chosen_document_type():
    document = sample_document(
        "good",
        profile=sample_profile(0, country="DE"),
        today=TODAY,
        seed=5,
        doc_type=DocumentType.UTILITY_BILL,
    )

    assert (document.doc_type, document.check_kind, document.file_type) == ("utility_bill", "address", "pdf")


def test_profile_facts_from_organization():
    organization = Organization(
        legal_name="Fabrikam Consulting GmbH",
        address_line1="Leopoldstraße 12",
        city="München",
        postal_code="80802",
        country="de",
        company_registration_number="HRB 123456",
        primary_contact_first_name="Anna",
        primary_contact_last_name="Müller",
    )

    assert ProfileFacts.from_organization(organization) == ProfileFacts(
        legal_name="Fabrikam Consulting GmbH",
        address_line1="Leopoldstraße 12",
        city="München",
        postal_code="80802",
        country="DE",
        registration_number="HRB 123456",
        contact_name="Anna Müller",
    )
