"""What assisted verification compares and produces: the profile's facts, one finding per
signal, and the assessment that sums them."""

from __future__ import annotations

from dataclasses import dataclass, field

from security.choices import Likelihood
from security.verification.extract import Extraction

__all__ = ("Assessment", "Finding", "ProfileFacts")


@dataclass(frozen=True)
class ProfileFacts:
    """The legal profile the document is compared against."""

    legal_name: str
    address_line1: str
    city: str
    postal_code: str
    country: str
    registration_number: str = ""
    #: The primary contact, compared instead of the legal name for an identity check.
    contact_name: str = ""

    @classmethod
    def from_organization(cls, org) -> ProfileFacts:
        contact = " ".join(
            part for part in (org.primary_contact_first_name, org.primary_contact_last_name) if part
        )
        return cls(
            legal_name=org.legal_name,
            address_line1=org.address_line1,
            city=org.city,
            postal_code=org.postal_code,
            country=(org.country or "").upper(),
            registration_number=org.company_registration_number,
            contact_name=contact,
        )


@dataclass(frozen=True)
class Finding:
    code: str
    severity: str  # "info" | "warning" | "error"
    detail: str
    points: int
    fix: str = ""

    def as_dict(self) -> dict:
        data = {"code": self.code, "severity": self.severity, "detail": self.detail, "points": self.points}
        if self.fix:
            data["fix"] = self.fix
        return data


@dataclass(frozen=True)
class Assessment:
    check: str
    score: int
    band: Likelihood
    findings: list[Finding]
    detected_doc_type: str
    page_count: int
    text: str
    readable: bool
    declared_type: str = ""
    #: The findings' sum before clamping to 0..100.
    points_total: int = 0
    extraction: Extraction | None = field(default=None, repr=False, compare=False)

    @property
    def passes(self) -> bool:
        return self.band == Likelihood.LIKELY

    def as_dict(self) -> dict:
        """spec/accounts.md §4.2's JSON (band as its label) plus the band's code and the facts."""
        return {
            "check": str(self.check),
            "score": self.score,
            "band": Likelihood(self.band).label,
            "findings": [f.as_dict() for f in self.findings],
            "band_code": str(self.band),
            "points_total": self.points_total,
            "detected_doc_type": self.detected_doc_type,
            "declared_type": self.declared_type,
            "page_count": self.page_count,
            "readable": self.readable,
        }

    def findings_as_dicts(self) -> list[dict]:
        return [f.as_dict() for f in self.findings]


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]
