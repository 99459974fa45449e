"""Proof of execution (spec §7): attaching documents (type sniffed, stored under a random name)
and removing them while the claim is open for proof."""

from __future__ import annotations

import hashlib
import re
import uuid
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from incentives.choices import ProofKind
from incentives.models import Claim, ProofDocument
from incentives.services.claims.reminders import _reminders_settle
from incentives.services.claims.rules import PROOF_STATUSES, S, _refuse
from incentives.services.claims.transitions import claim_transition
from portal import uploads
from portal.audit import audit_record
from portal.locks import lock

__all__ = ("proof_attach", "proof_remove")

#: File types accepted as proof (sniffed from the content, never taken from the name).
PROOF_TYPES = frozenset({uploads.PDF, uploads.PNG, uploads.JPEG, uploads.DOCX, uploads.XLSX, uploads.PPTX})
_CONTENT_TYPES = {
    uploads.PDF: "application/pdf",
    uploads.PNG: "image/png",
    uploads.JPEG: "image/jpeg",
    uploads.DOCX: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    uploads.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    uploads.PPTX: "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}
_EXTENSIONS = {uploads.JPEG: "jpg"}
MAX_PROOF_FILES = 10


def proof_attach(*, claim: Claim, kind: str, file: UploadedFile, actor: Any) -> ProofDocument:
    """Attach one proof document; the file's type is sniffed and it is stored under a random name.

    In progress → Pending POE with the first document.
    """
    if kind not in ProofKind.values:
        raise _refuse(
            f"Unknown proof kind {kind!r}; expected one of {', '.join(ProofKind.values)}.", field="kind"
        )
    max_bytes = settings.INCENTIVES_PROOF_MAX_MB * 1024 * 1024
    try:
        detected = uploads.validate_upload(file, allowed=set(PROOF_TYPES), max_bytes=max_bytes)
    except uploads.UploadRejected as exc:
        raise _refuse(exc.message, field="file", code="file") from exc
    with transaction.atomic():
        claim = lock(claim, "activity_type")
        if claim.status not in PROOF_STATUSES:
            raise _refuse(f"Proof cannot be changed while the claim is {claim.status}.")
        count = ProofDocument.objects.filter(claim=claim).count()
        if count >= MAX_PROOF_FILES:
            raise _refuse(
                f"A claim holds at most {MAX_PROOF_FILES} files; remove one before adding another.",
                field="file",
                code="too_many",
            )
        digest = hashlib.sha256()
        file.seek(0)
        for chunk in file.chunks():
            digest.update(chunk)
        file.seek(0)
        document = ProofDocument(
            organization_id=claim.organization_id,
            claim=claim,
            kind=kind,
            original_name=re.split(r"[\\/]", file.name or "proof")[-1][:255] or "proof",
            content_type=_CONTENT_TYPES[detected],
            size=file.size,
            sha256=digest.hexdigest(),
            uploaded_by=actor,
        )
        # The stored name is random: the partner's file name never reaches the file system.
        document.file.save(f"{uuid.uuid4().hex}.{_EXTENSIONS.get(detected, detected)}", file, save=False)
        stored = document.file.name
        try:
            document.save(force_insert=True)
            audit_record(
                actor=actor,
                action="incentives.claim.proof_attached",
                organization_id=claim.organization_id,
                target=claim,
                changes={"kind": kind, "file": document.original_name, "sha256": document.sha256},
            )
            if claim.status == S.IN_PROGRESS:
                claim_transition(
                    claim=claim,
                    to_status=S.PENDING_POE,
                    actor=actor,
                    note=f"{ProofKind(kind).label} attached.",
                )
            else:
                _reminders_settle(claim)
        except BaseException:
            document.file.storage.delete(stored)
            raise
    return document


@transaction.atomic
def proof_remove(*, document: ProofDocument, actor: Any) -> None:
    claim = lock(document.claim, "activity_type")
    if claim.status not in PROOF_STATUSES:
        raise _refuse(f"Proof cannot be changed while the claim is {claim.status}.")
    storage, name = document.file.storage, document.file.name
    audit_record(
        actor=actor,
        action="incentives.claim.proof_removed",
        organization_id=claim.organization_id,
        target=claim,
        changes={"kind": document.kind, "file": document.original_name, "sha256": document.sha256},
    )
    document.delete()
    transaction.on_commit(lambda: storage.delete(name))
