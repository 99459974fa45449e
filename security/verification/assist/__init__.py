"""Assisted verification: how likely an uploaded document is to pass, and what to fix
(spec/accounts.md §4.2).

No opaque model: every signal is a `Finding` with the points it earned or cost, and the score is
their sum, clamped to 0..100 (only the lower bound can bind: the positive signals add up to at
most 100; `Assessment.points_total` keeps the unclamped sum). Every finding that earns less than
its signal's full points, or costs points, carries a `fix` sentence saying exactly what to do.

Scoring (spec table): document type recognised and allowed for the check 25; legal name
similarity ≥ 95 / 85–94 / < 85 → 30 / 15 / 0; address: country + postal code 10, city 5,
street similarity ≥ 85 → 10; registration number exact match 10 (when the profile has one and the
document type carries one); within the age limit 10. Penalties: unreadable (no text, or a page's
OCR confidence < 60) −30; a page's OCR confidence 60–79 −5 (spec example); expired −20; P.O. box
−25. Bands: ≥ 80 likely, 50–79 needs review, < 50 unlikely.

Modules: `policy` (the scoring table: points, thresholds, allowed types, age limits, bands),
`facts` (the profile compared against, findings, the assessment), `doctypes` (recognising the
document type from its text), `countries` (evidence of the profile's country), `document_checks`
(type and age), `profile_checks` (name, address, registration number, P.O. box),
`quality_checks` (readability, OCR, signs of editing) and `scoring` (`assess`, which runs them).
"""

# Re-exported for security/services/compliance.py only, which imports them from here; another engineer
# is editing that file now. Point it at `facts` and `scoring`, then drop these re-exports.
from security.verification.assist.facts import Assessment, ProfileFacts
from security.verification.assist.scoring import assess

__all__ = ("Assessment", "ProfileFacts", "assess")
