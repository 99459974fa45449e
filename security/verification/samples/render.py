"""Rendering a sample document's lines: a PDF with a text layer, or a scan without one."""

from __future__ import annotations

import io
import random

from security.verification.samples.wording import Line

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
