"""Text extraction for assisted verification (spec/accounts.md §4.2 step 1): PDF text layer per
page, producer tag, refusals with clear messages, images with resolution, OCR only through a
`tesseract` found on PATH (a stand-in script here; the real engine is not installed)."""

from __future__ import annotations

import io
import stat
import textwrap

import pytest
from fpdf import FPDF
from PIL import Image
from pypdf import PdfWriter

from security.verification.extract import DocumentUnreadable, extract, parse_tesseract_tsv


def _pdf(
    *pages: str, producer: str = "", owner_password: str = "", user_password: str | None = None
) -> bytes:
    pdf = FPDF()
    if producer:
        pdf.set_producer(producer)
    pdf.set_font("helvetica", size=11)
    for text in pages:
        pdf.add_page()
        for line in text.splitlines():
            pdf.cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
    if owner_password:
        pdf.set_encryption(owner_password=owner_password, user_password=user_password)
    return bytes(pdf.output())


def _png(*, dpi: int | None = 300, fmt: str = "PNG") -> bytes:
    image = Image.new("L", (400, 200), color=255)
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **({"dpi": (dpi, dpi)} if dpi else {}))
    return buffer.getvalue()


def _image_only_pdf() -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.image(io.BytesIO(_png()), x=10, y=10, w=100)
    return bytes(pdf.output())


@pytest.fixture
def no_ocr(monkeypatch, tmp_path):
    """No `tesseract` on PATH, whatever the machine has installed."""
    monkeypatch.setenv("PATH", str(tmp_path))


@pytest.fixture
def fake_tesseract(monkeypatch, tmp_path):
    """A `tesseract` on PATH that answers every image with the same TSV (two words, conf 72)."""
    tsv = "\t".join(
        [
            "level",
            "page_num",
            "block_num",
            "par_num",
            "line_num",
            "word_num",
            "left",
            "top",
            "width",
            "height",
            "conf",
            "text",
        ]
    )
    rows = [
        [5, 1, 1, 1, 1, 1, 10, 10, 50, 10, 70, "Gesellschafterliste"],
        [5, 1, 1, 1, 1, 2, 70, 10, 50, 10, 74, "Seite"],
        [5, 1, 1, 1, 2, 1, 10, 30, 50, 10, -1, ""],
    ]
    body = tsv + "\n" + "\n".join("\t".join(str(c) for c in row) for row in rows) + "\n"
    script = tmp_path / "tesseract"
    script.write_text(f"#!/bin/sh\ncat > /dev/null\ncat <<'EOF'\n{body}EOF\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{tmp_path}:/usr/bin:/bin")
    return script


def test_pdf_text_per_page_page_count_and_producer():
    data = _pdf("Handelsregister B\nAmtsgericht München", "Seite zwei", producer="Registerportal 3.1")

    result = extract(data, "pdf")

    assert result.page_count == 2
    assert "Handelsregister B" in result.pages[0]
    assert "Amtsgericht München" in result.pages[0]
    assert result.pages[1].strip() == "Seite zwei"
    assert "Registerportal 3.1" in result.producer
    assert result.ocr_used is False
    assert result.ocr_confidence is None
    assert result.image_dpi is None


def test_the_file_type_is_sniffed_from_the_content_not_the_declared_type():
    assert extract(_pdf("Kontoauszug"), "image/png").file_type == "pdf"
    assert extract(_png(), "application/pdf").file_type == "png"


def test_password_protected_pdf_is_refused_with_what_to_do():
    data = _pdf("Kontoauszug", owner_password="owner", user_password="secret")

    with pytest.raises(DocumentUnreadable) as caught:
        extract(data, "pdf")

    assert caught.value.message == "The PDF is password-protected; upload it without a password."


def test_pdf_with_only_an_owner_password_opens():
    data = _pdf("Kontoauszug Nr. 3", owner_password="owner", user_password="")

    assert "Kontoauszug Nr. 3" in extract(data, "pdf").pages[0]


@pytest.mark.parametrize(
    ("data", "file_type", "message"),
    [
        (b"", "pdf", "The file is empty; upload the document again."),
        (
            b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 2 0 R >> garbage",
            "pdf",
            "The PDF is damaged and cannot be read; download it again from the issuer and upload the new "
            "copy.",
        ),
        (
            b"this is not a pdf at all",
            "pdf",
            "The file is not a valid PDF; download it again from the issuer and upload it.",
        ),
        (
            b"MZ\x90\x00\x03\x00\x00\x00",
            "application/octet-stream",
            "Only PDF, PNG and JPEG files can be assessed; upload the document as a PDF.",
        ),
        (
            b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDRbroken",
            "png",
            "The PNG image is damaged and cannot be read; scan the document again and upload it.",
        ),
    ],
    ids=["empty", "damaged-pdf", "not-a-pdf", "executable", "damaged-png"],
)
def test_unreadable_files_say_why(data, file_type, message):
    with pytest.raises(DocumentUnreadable) as caught:
        extract(data, file_type)

    assert caught.value.message == message
    assert str(caught.value) == message


def test_pdf_without_pages_is_refused():
    buffer = io.BytesIO()
    PdfWriter().write(buffer)

    with pytest.raises(DocumentUnreadable) as caught:
        extract(buffer.getvalue(), "pdf")

    assert caught.value.message == "The PDF has no pages; upload the complete document."


def test_image_without_ocr_engine_has_no_text_and_says_which_page(no_ocr):
    result = extract(_png(dpi=96), "png")

    assert result.pages == [""]
    assert result.page_count == 1
    assert result.image_dpi == 96
    assert result.ocr_used is False
    assert result.pages_without_ocr == (1,)


def test_jpeg_resolution_and_missing_resolution(no_ocr):
    assert extract(_png(dpi=200, fmt="JPEG"), "jpeg").image_dpi == 200
    assert extract(_png(dpi=None), "png").image_dpi is None


def test_image_only_pdf_page_without_ocr_engine(no_ocr):
    result = extract(_image_only_pdf(), "pdf")

    assert result.pages == [""]
    assert result.pages_without_ocr == (1,)


def test_ocr_reads_images_when_tesseract_is_on_path(fake_tesseract):
    result = extract(_png(), "png")

    assert result.ocr_used is True
    assert result.pages == ["Gesellschafterliste Seite"]
    assert result.ocr_confidence == 72.0
    assert result.pages_without_ocr == ()


def test_ocr_reads_only_pdf_pages_without_a_text_layer(fake_tesseract):
    text_page = _pdf("Handelsregister B")
    writer = PdfWriter()
    from pypdf import PdfReader  # noqa: PLC0415

    writer.append(PdfReader(io.BytesIO(text_page)))
    writer.append(PdfReader(io.BytesIO(_image_only_pdf())))
    buffer = io.BytesIO()
    writer.write(buffer)

    result = extract(buffer.getvalue(), "pdf")

    assert result.page_count == 2
    assert "Handelsregister B" in result.pages[0]
    assert result.pages[1] == "Gesellschafterliste Seite"
    assert result.page_ocr_confidence == (None, 72.0)
    assert result.ocr_confidence == 72.0


def test_tesseract_tsv_is_parsed_line_by_line_skipping_empty_and_negative_confidence():
    tsv = textwrap.dedent(
        """\
        level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext
        1\t1\t0\t0\t0\t0\t0\t0\t800\t600\t-1\t
        5\t1\t1\t1\t1\t1\t10\t10\t40\t10\t91.5\tCompanies
        5\t1\t1\t1\t1\t2\t60\t10\t40\t10\t88.5\tHouse
        5\t1\t1\t1\t2\t1\t10\t30\t40\t10\t60\tRG1
        5\t1\t1\t1\t2\t2\t60\t30\t40\t10\t-1\t
        """
    )

    text, confidences = parse_tesseract_tsv(tsv)

    assert text == "Companies House\nRG1"
    assert confidences == [91.5, 88.5, 60.0]
