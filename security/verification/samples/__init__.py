"""Labelled sample documents for assisted verification: tests, the bench and the demo.

`documents.sample_document(label, profile=…, today=…, seed=…)` renders a realistic document for a
profile (`profiles.sample_profile`): a PDF with a text layer (fpdf2) — a German Handelsregister
extract, a Companies House overview, a Kbis, a US certificate of good standing or of
incorporation, a VAT/EIN registration, a utility bill, a bank statement, a business licence or an
unrelated quotation — in the country's language and date formats, with a layout that varies with
the seed. Labels:

- `good`: right type for the check, the profile's name and address, fresh (the only label
  expected to pass);
- `wrong_name`: issued to another company or a sibling entity ("… Deutschland GmbH");
- `old`: older than the type's age limit;
- `wrong_type`: a type the check does not accept (a bill for the business check, …);
- `unreadable`: a scan without text: a PNG/JPEG image, or a PDF holding only the image.

Modules: `profiles` (sample legal profiles and other entities), `documents` (labels, which
document each label draws, `sample_document`, `labelled_set`), `wording` (dates, names and
addresses as documents print them), `official_papers` (registers' and authorities' documents),
`commercial_papers` (bills, statements, quotations) and `render` (PDF with a text layer, or a scan).
"""
