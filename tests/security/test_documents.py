"""Verification documents (spec/accounts.md §4.2, issue 8): uploads with their instant assessment,
stored under a random name with their hash; executable, oversized, corrupt, encrypted and other
files refused with a clear message and nothing stored."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from accounts.models import ActionItem
from portal.history import history_for
from portal.models import AuditEvent
from portal.uploads import UploadRejected
from security.choices import CheckKind, CheckStatus, DocumentType, Likelihood, ReviewerDecision
from security.models import VerificationDocument
from security.services.compliance import (
    EXECUTABLE_MESSAGE,
    check_appeal,
    check_transition,
    document_review,
    document_upload,
)
from security.verification.assist.facts import ProfileFacts
from security.verification.assist.scoring import assess
from security.verification.samples.documents import sample_document
from security.verification.samples.profiles import sample_profile
from tests.factories import (
    OrganizationFactory,
    UserFactory,
    VerificationCheckFactory,
    compliance_admin,
    verification_pdf,
)

CS = CheckStatus
pytestmark = pytest.mark.django_db


@pytest.fixture
def org(db):
    """An organization whose legal profile is a sample profile, so the samples match it."""
    facts = sample_profile(7, country="DE")
    return OrganizationFactory(
        legal_name=facts.legal_name,
        address_line1=facts.address_line1,
        city=facts.city,
        postal_code=facts.postal_code,
        country=facts.country,
        company_registration_number=facts.registration_number,
    )


@pytest.fixture
def manager(org):
    return compliance_admin(org, email="cora@partner.example")


@pytest.fixture
def check(org):
    return VerificationCheckFactory(organization=org, kind=CheckKind.BUSINESS, status=CS.ACTION_REQUIRED)


def _sample(org, label="good", seed=1):
    return sample_document(
        label,
        profile=ProfileFacts.from_organization(org),
        today=timezone.localdate(),
        seed=seed,
        check_kind=CheckKind.BUSINESS,
    )


def _file(data: bytes, name: str = "extract.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data)


def _stored_files() -> list[Path]:
    root = Path(settings.MEDIA_ROOT) / "verification"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


# --- Accepted uploads -----------------------------------------------------------------------------


def test_a_document_is_stored_with_its_hash_and_assessment_and_the_check_moves_on(org, manager, check):
    sample = _sample(org)
    document = document_upload(
        actor=manager,
        check=check,
        doc_type=sample.declared_type,
        upload=_file(sample.data, "../../HR extract.pdf"),
    )
    document.refresh_from_db()
    # The partner's file name is kept for display only; the stored name is random.
    assert document.original_name == "HR extract.pdf"
    stored = Path(document.file.path)
    assert stored.exists() and stored.read_bytes() == sample.data
    assert "extract" not in stored.name and stored.suffix == ".pdf"
    assert document.sha256 == hashlib.sha256(sample.data).hexdigest()
    assert (document.size, document.file_type, document.uploaded_by) == (len(sample.data), "pdf", manager)
    assert document.reviewer_decision == ReviewerDecision.PENDING

    # The assessment stored is the one the verification module gives for this file.
    expected = assess(
        data=sample.data,
        file_type="pdf",
        declared_type=sample.declared_type,
        check_kind=CheckKind.BUSINESS,
        profile=ProfileFacts.from_organization(org),
        today=timezone.localdate(),
    )
    assert (document.assist_score, document.assist_band) == (expected.score, expected.band)
    assert document.assist_band == Likelihood.LIKELY
    assert document.assist_findings == expected.as_dict()["findings"]
    assert document.detected_doc_type == expected.detected_doc_type
    assert document.page_count == expected.page_count >= 1
    assert document.extracted_text == expected.text and document.extracted_text.strip()

    check.refresh_from_db()
    assert check.status == CS.DOCUMENTS_SUBMITTED
    assert "HR extract.pdf" in check.reason
    audit = AuditEvent.objects.get(action="security.document.uploaded")
    assert audit.changes["sha256"] == document.sha256 and audit.changes["assist_score"] == expected.score
    assert history_for(check).last().to_status == CS.DOCUMENTS_SUBMITTED


def test_a_weak_document_is_still_stored_with_findings_that_say_what_to_fix(org, manager, check):
    sample = _sample(org, "wrong_name")
    document = document_upload(
        actor=manager, check=check, doc_type=sample.declared_type, upload=_file(sample.data)
    )
    assert document.assist_band != Likelihood.LIKELY
    costly = [f for f in document.assist_findings if f["points"] < 30 and f["severity"] != "info"]
    assert costly and all(f.get("fix") for f in costly)


@pytest.mark.parametrize(
    ("image_format", "file_type", "suffix"), [("PNG", "png", ".png"), ("JPEG", "jpeg", ".jpg")]
)
def test_a_scanned_image_is_accepted_and_kept_as_an_image(manager, check, image_format, file_type, suffix):
    buffer = io.BytesIO()
    Image.new("RGB", (400, 300), "white").save(buffer, format=image_format, dpi=(200, 200))
    document = document_upload(
        actor=manager,
        check=check,
        doc_type=DocumentType.REGISTRATION_EXTRACT,
        upload=_file(buffer.getvalue(), "scan"),
    )
    assert document.file_type == file_type
    assert Path(document.file.name).suffix == suffix
    # Nothing legible on it: stored, but the assessment says it will not pass.
    assert document.assist_band == Likelihood.UNLIKELY


def test_more_documents_may_follow_while_the_check_waits_for_review(org, manager, check):
    for seed in (1, 2):
        sample = _sample(org, seed=seed)
        document_upload(actor=manager, check=check, doc_type=sample.declared_type, upload=_file(sample.data))
    check.refresh_from_db()
    assert check.status == CS.DOCUMENTS_SUBMITTED
    assert VerificationDocument.objects.filter(check_ref=check).count() == 2


def test_a_document_for_a_rejected_check_is_the_evidence_of_its_appeal(org, manager):
    """CHECK_TRANSITIONS takes a rejected check only to an appeal (or a restart): the upload keeps
    the check rejected, and the appeal sends it, with the document, back to review."""
    check = VerificationCheckFactory(organization=org, status=CS.REJECTED, reason="Name differs.")
    sample = _sample(org)
    document = document_upload(
        actor=manager, check=check, doc_type=sample.declared_type, upload=_file(sample.data)
    )
    check.refresh_from_db()
    assert check.status == CS.REJECTED
    check_appeal(actor=manager, check=check, note="The attached extract shows the registered name.")
    reviewer = UserFactory(organization=None, is_staff=True)
    document_review(actor=reviewer, document=document, decision="accepted", note="")
    check.refresh_from_db()
    assert check.status == CS.VERIFIED


def test_upload_review_and_verification_end_to_end(org, manager, check):
    reviewer = UserFactory(organization=None, is_staff=True)
    check_transition(actor=None, check=check, to_status=CS.PENDING)
    check_transition(
        actor=reviewer, check=check, to_status=CS.ACTION_REQUIRED, reason="Upload a register extract."
    )
    item = ActionItem.objects.get(dedupe_key=f"verification-check-{check.pk}")
    sample = _sample(org)
    document = document_upload(
        actor=manager, check=check, doc_type=sample.declared_type, upload=_file(sample.data)
    )
    document_review(actor=reviewer, document=document, decision="accepted", note="")
    check.refresh_from_db()
    item.refresh_from_db()
    assert check.status == CS.VERIFIED
    assert item.status == "resolved"


# --- Refusals: nothing stored ---------------------------------------------------------------------


def _refused(manager, check, upload, doc_type=DocumentType.REGISTRATION_EXTRACT) -> str:
    before = _stored_files()
    with pytest.raises(UploadRejected) as error:
        document_upload(actor=manager, check=check, doc_type=doc_type, upload=upload)
    assert not VerificationDocument.objects.exists()
    assert _stored_files() == before
    check.refresh_from_db()
    assert check.status == CS.ACTION_REQUIRED
    assert not AuditEvent.objects.filter(action="security.document.uploaded").exists()
    return error.value.message


@pytest.mark.parametrize(
    ("name", "head"),
    [
        ("extract.pdf", b"MZ\x90\x00\x03\x00\x00\x00"),  # Windows PE
        ("extract.pdf", b"\x7fELF\x02\x01\x01\x00"),  # Linux ELF
        ("extract.png", b"\xcf\xfa\xed\xfe\x07\x00\x00\x01"),  # Mach-O 64-bit
        ("extract.jpg", b"\xca\xfe\xba\xbe\x00\x00\x00\x02"),  # Mach-O universal
        ("extract.pdf", b"#!/bin/sh\nrm -rf ~\n"),  # shell script
        ("extract.pdf", b"\xef\xbb\xbf#!/usr/bin/env python3\n"),  # script behind a BOM
    ],
)
def test_executables_are_refused_whatever_their_name(manager, check, name, head):
    assert _refused(manager, check, _file(head + b"\x00" * 512, name)) == EXECUTABLE_MESSAGE


def test_an_oversized_file_is_refused_with_its_size_and_the_limit(manager, check, settings):
    settings.SECURITY_VERIFICATION_MAX_MB = 1
    data = verification_pdf() + b"%" + b"0" * (1_572_864 - len(verification_pdf()) - 1)
    message = _refused(manager, check, _file(data))
    assert message.startswith("The file is 1.5 MB; verification documents may be at most 1 MB.")


def test_an_empty_file_is_refused(manager, check):
    assert _refused(manager, check, _file(b"")).startswith("The file is empty")


@pytest.mark.parametrize(
    ("data", "found"),
    [
        (b"Legal name,Address\nAlpha,Berlin\n", "a text file"),
        (b"PK\x03\x04" + b"\x00" * 100, "not a document we can read"),
        (b"GIF89a" + b"\x00" * 100, "not a document we can read"),
    ],
)
def test_files_that_are_not_pdf_png_or_jpeg_are_refused_saying_what_they_are(manager, check, data, found):
    assert (
        _refused(manager, check, _file(data))
        == f"The file is {found}; upload the document as PDF, PNG or JPEG."
    )


def test_a_corrupt_pdf_is_refused(manager, check):
    message = _refused(manager, check, _file(b"%PDF-1.7\n1 0 obj << /Type /Catalog broken"))
    assert "damaged" in message


def test_a_corrupt_image_is_refused(manager, check):
    message = _refused(manager, check, _file(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "scan.png"))
    assert "PNG" in message


def test_an_encrypted_pdf_is_refused(manager, check):
    message = _refused(manager, check, _file(verification_pdf(user_password="secret")))
    assert "password" in message


def test_an_unknown_document_type_is_refused(manager, check):
    with pytest.raises(ValidationError) as error:
        document_upload(actor=manager, check=check, doc_type="selfie", upload=_file(verification_pdf()))
    assert "doc_type" in error.value.message_dict
    assert not VerificationDocument.objects.exists()


@pytest.mark.parametrize("status", [CS.PENDING, CS.IN_REVIEW, CS.VERIFIED, CS.APPEAL_SUBMITTED])
def test_documents_are_accepted_only_while_the_check_waits_for_the_partner(org, manager, status):
    check = VerificationCheckFactory(organization=org, status=status)
    with pytest.raises(ValidationError) as error:
        document_upload(
            actor=manager,
            check=check,
            doc_type=DocumentType.REGISTRATION_EXTRACT,
            upload=_file(verification_pdf()),
        )
    assert "this one is" in str(error.value)
    assert not VerificationDocument.objects.exists()


def test_only_compliance_and_account_admins_of_the_organization_upload(org, check, charlie, verified_client):
    member = UserFactory(organization=org, roles=["incentives_user"])
    url = reverse("security:check-upload", args=[check.pk])
    for actor, refused in ((member, 403), (charlie, 404)):
        data = {"doc_type": DocumentType.REGISTRATION_EXTRACT, "file": _file(verification_pdf())}
        assert verified_client(actor).post(url, data).status_code == refused
    assert not VerificationDocument.objects.exists()
