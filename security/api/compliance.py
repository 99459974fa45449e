"""Security API: program enrollments, verification checks and documents, compliance training."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import exceptions, mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from accounts.models import User
from portal.api import TenantViewSet, created
from portal.uploads import UploadRejected
from security.api.common import (
    C,
    SelectorRows,
    UploadRefused,
    _moment,
    _text,
    service_errors,
)
from security.choices import (
    CHECK_UPLOAD_STATUSES,
    MAX_APPEALS,
    CheckKind,
    CheckStatus,
    DocumentType,
    Likelihood,
    Program,
    ReviewerDecision,
    TrainingStatus,
)
from security.filters import (
    CheckFilterSet,
    DocumentFilterSet,
    EnrollmentFilterSet,
    TrainingFilterSet,
)
from security.models import (
    ProgramEnrollment,
    TrainingAssignment,
    TrainingCourse,
    VerificationCheck,
    VerificationDocument,
)
from security.selectors.compliance import enrollments, training_assignments
from security.selectors.history import check_events
from security.services import compliance as compliance_services
from security.services.training import training_assign, training_cancel, training_complete

# --- Verification -------------------------------------------------------------------------------


class CheckSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    enrollmentId = serializers.IntegerField(source="enrollment_id", read_only=True)  # noqa: N815
    program = serializers.ChoiceField(source="enrollment.program", choices=Program.choices, read_only=True)
    kind = serializers.ChoiceField(choices=CheckKind.choices, read_only=True)
    kindName = serializers.CharField(source="get_kind_display", read_only=True)  # noqa: N815
    status = serializers.ChoiceField(choices=CheckStatus.choices, read_only=True)
    reason = serializers.CharField(read_only=True)
    appealsUsed = serializers.IntegerField(source="appeals_used", read_only=True)  # noqa: N815
    appealsLeft = serializers.SerializerMethodField()  # noqa: N815
    canUploadDocuments = serializers.SerializerMethodField()  # noqa: N815
    updatedDateTime = serializers.DateTimeField(source="updated_at", read_only=True)  # noqa: N815

    @extend_schema_field(OpenApiTypes.INT)
    def get_appealsLeft(self, check: VerificationCheck) -> int:  # noqa: N802
        return max(MAX_APPEALS - check.appeals_used, 0)

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_canUploadDocuments(self, check: VerificationCheck) -> bool:  # noqa: N802
        return check.status in CHECK_UPLOAD_STATUSES


class EnrollmentSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    program = serializers.ChoiceField(choices=Program.choices, read_only=True)
    programName = serializers.CharField(source="get_program_display", read_only=True)  # noqa: N815
    enrolledDateTime = serializers.DateTimeField(source="enrolled_at", read_only=True)  # noqa: N815
    verificationStatus = serializers.SerializerMethodField()  # noqa: N815
    checks = CheckSerializer(source="checks.all", many=True, read_only=True)

    @extend_schema_field({"type": "string", "enum": CheckStatus.values})
    def get_verificationStatus(self, enrollment: ProgramEnrollment) -> str:  # noqa: N802
        """verified when every check is; otherwise the status that needs attention most."""
        return str(compliance_services.verification_status(enrollment))


class EnrollSerializer(serializers.Serializer):
    program = serializers.ChoiceField(choices=Program.choices)


class EnrollmentViewSet(SelectorRows, mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    model = ProgramEnrollment
    rows = staticmethod(enrollments)
    serializer_class = EnrollmentSerializer
    filterset_class = EnrollmentFilterSet
    capabilities = {"*": C.ACCOUNT_VIEW, "create": C.COMPLIANCE_MANAGE}

    @extend_schema(request=EnrollSerializer, responses={201: EnrollmentSerializer})
    def create(self, request):
        """Enroll in a program: its verification checks start (`pending`)."""
        data = EnrollSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with service_errors():
            enrollment = compliance_services.program_enroll(
                actor=request.user,
                organization=request.user.organization,
                program=data.validated_data["program"],
            )
        return created(EnrollmentSerializer(self.get_queryset().get(pk=enrollment.pk)).data)


class AppealSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=5000, help_text="Why the decision is wrong, and the evidence.")


class CheckHistoryRowSerializer(serializers.Serializer):
    occurredDateTime = serializers.DateTimeField()  # noqa: N815
    status = serializers.CharField()
    reason = serializers.CharField(allow_blank=True)
    appealsUsed = serializers.IntegerField()  # noqa: N815
    who = serializers.CharField()


class CheckHistorySerializer(serializers.Serializer):
    value = CheckHistoryRowSerializer(many=True)


class CheckViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    model = VerificationCheck
    serializer_class = CheckSerializer
    filterset_class = CheckFilterSet
    select_related = ("enrollment",)
    capabilities = {"*": C.ACCOUNT_VIEW, "appeal": C.COMPLIANCE_MANAGE}

    @extend_schema(request=AppealSerializer, responses=CheckSerializer)
    @action(detail=True, methods=["post"])
    def appeal(self, request, pk=None):
        """Appeal a rejection (at most three times per check)."""
        check = self.get_object()
        data = AppealSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with service_errors():
            check = compliance_services.check_appeal(
                actor=request.user, check=check, note=data.validated_data["note"]
            )
        return Response(CheckSerializer(self.get_queryset().get(pk=check.pk)).data)

    @extend_schema(request=None, responses=CheckHistorySerializer)
    @action(detail=True, methods=["get"])
    def history(self, request, pk=None):
        """Every recorded status of the check, oldest first."""
        rows = [
            {
                "occurredDateTime": event.at,
                "status": event.to_status,
                "reason": event.reason,
                "appealsUsed": event.appeals_used,
                "who": event.who,
            }
            for event in check_events(self.get_object())
        ]
        return Response(CheckHistorySerializer({"value": rows}).data)


class FindingSerializer(serializers.Serializer):
    code = serializers.CharField()
    severity = serializers.ChoiceField(choices=[("info", "info"), ("warning", "warning"), ("error", "error")])
    detail = serializers.CharField()
    points = serializers.IntegerField()
    fix = serializers.CharField(required=False, allow_blank=True)


class DocumentSerializer(serializers.Serializer):
    """The stored document and its advisory assessment (spec/accounts.md §4.2: check, score, band,
    findings). A reviewer makes the decision."""

    id = serializers.IntegerField(read_only=True)
    documentId = serializers.UUIDField(source="document_id", read_only=True)  # noqa: N815
    checkId = serializers.IntegerField(source="check_ref_id", read_only=True)  # noqa: N815
    check = serializers.ChoiceField(source="check_ref.kind", choices=CheckKind.choices, read_only=True)
    docType = serializers.ChoiceField(source="doc_type", choices=DocumentType.choices, read_only=True)  # noqa: N815
    fileName = _text("original_name")  # noqa: N815
    fileType = _text("file_type")  # noqa: N815
    size = serializers.IntegerField(read_only=True)
    sha256 = serializers.CharField(read_only=True)
    uploadedDateTime = serializers.DateTimeField(source="uploaded_at", read_only=True)  # noqa: N815
    detectedDocType = _text("detected_doc_type")  # noqa: N815
    pageCount = serializers.IntegerField(source="page_count", read_only=True)  # noqa: N815
    score = serializers.IntegerField(source="assist_score", read_only=True)
    band = serializers.ChoiceField(source="assist_band", choices=Likelihood.choices, read_only=True)
    bandLabel = serializers.CharField(source="get_assist_band_display", read_only=True)  # noqa: N815
    findings = FindingSerializer(source="assist_findings", many=True, read_only=True)
    reviewerDecision = serializers.ChoiceField(  # noqa: N815
        source="reviewer_decision", choices=ReviewerDecision.choices, read_only=True
    )
    reviewerNote = _text("reviewer_note")  # noqa: N815
    reviewedDateTime = _moment("reviewed_at")  # noqa: N815


class DocumentUploadSerializer(serializers.Serializer):
    checkId = serializers.IntegerField(min_value=1, max_value=2**63 - 1, help_text="The check's id.")  # noqa: N815
    docType = serializers.ChoiceField(choices=DocumentType.choices, help_text="The kind of document.")  # noqa: N815
    file = serializers.FileField(help_text="PDF, PNG or JPEG, at most SECURITY_VERIFICATION_MAX_MB.")


class DocumentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    model = VerificationDocument
    serializer_class = DocumentSerializer
    filterset_class = DocumentFilterSet
    select_related = ("check_ref",)
    parser_classes = [MultiPartParser, FormParser, JSONParser]
    capabilities = {"*": C.ACCOUNT_VIEW, "create": C.COMPLIANCE_MANAGE}

    @extend_schema(
        request={"multipart/form-data": DocumentUploadSerializer},
        responses={201: DocumentSerializer},
    )
    def create(self, request):
        """Upload a document for a check and get its instant assessment (advisory: a reviewer
        decides). A refused file (empty, too large, executable, not PDF/PNG/JPEG, corrupt,
        encrypted) is a problem+json 400 whose `detail` says why; nothing is stored."""
        data = DocumentUploadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        check = VerificationCheck.objects.visible_to(request.user).filter(pk=values["checkId"]).first()
        if check is None:
            raise exceptions.ValidationError(
                {"checkId": ["No such verification check in your organization."]}
            )
        try:
            with service_errors():
                document = compliance_services.document_upload(
                    actor=request.user, check=check, doc_type=values["docType"], upload=values["file"]
                )
        except UploadRejected as exc:
            raise UploadRefused(exc.message) from None
        return created(DocumentSerializer(self.get_queryset().get(pk=document.pk)).data)


# --- Training -----------------------------------------------------------------------------------


class CourseSerializer(serializers.Serializer):
    code = serializers.CharField(read_only=True)
    title = serializers.CharField(read_only=True)
    url = serializers.URLField(read_only=True)
    durationMinutes = serializers.IntegerField(source="duration_minutes", read_only=True)  # noqa: N815


class TrainingSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    course = CourseSerializer(read_only=True)
    userId = serializers.IntegerField(source="user_id", read_only=True)  # noqa: N815
    userPrincipalName = serializers.EmailField(source="user.email", read_only=True)  # noqa: N815
    assignedDateTime = serializers.DateTimeField(source="assigned_at", read_only=True)  # noqa: N815
    dueDate = serializers.DateField(source="due_on", read_only=True)  # noqa: N815
    status = serializers.ChoiceField(choices=TrainingStatus.choices, read_only=True)
    completedDateTime = _moment("completed_at")  # noqa: N815
    canceledDateTime = _moment("canceled_at")  # noqa: N815


class TrainingAssignSerializer(serializers.Serializer):
    courseCode = serializers.SlugField(max_length=40, help_text="The course's code.")  # noqa: N815
    userId = serializers.IntegerField(
        min_value=1, max_value=2**63 - 1, help_text="A person of your organization."
    )  # noqa: N815
    dueDate = serializers.DateField(help_text="YYYY-MM-DD")  # noqa: N815


class TrainingViewSet(SelectorRows, mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    model = TrainingAssignment
    rows = staticmethod(training_assignments)
    serializer_class = TrainingSerializer
    filterset_class = TrainingFilterSet
    capabilities = {
        "*": C.ACCOUNT_VIEW,
        "create": C.COMPLIANCE_MANAGE,
        "complete": C.COMPLIANCE_MANAGE,
        "cancel": C.COMPLIANCE_MANAGE,
    }

    def _answer(self, assignment: TrainingAssignment, code: int = status.HTTP_200_OK) -> Response:
        return Response(TrainingSerializer(self.get_queryset().get(pk=assignment.pk)).data, status=code)

    @extend_schema(request=TrainingAssignSerializer, responses={201: TrainingSerializer})
    def create(self, request):
        """Assign a compliance course to one person, due on a date."""
        data = TrainingAssignSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        course = (
            TrainingCourse.objects.visible_to(request.user)
            .filter(code=values["courseCode"], is_active=True)
            .first()
        )
        if course is None:
            codes = ", ".join(TrainingCourse.objects.filter(is_active=True).values_list("code", flat=True))
            raise exceptions.ValidationError({"courseCode": [f"No such active course; use one of: {codes}."]})
        user = User.objects.filter(
            organization=request.user.organization,
            pk=values["userId"],
            is_active=True,
            is_service_account=False,
        ).first()
        if user is None:
            raise exceptions.ValidationError({"userId": ["No such person in your organization."]})
        with service_errors():
            assignments = training_assign(
                actor=request.user,
                organization=request.user.organization,
                course=course,
                users=[user],
                due_on=values["dueDate"],
            )
        if not assignments:
            raise exceptions.ValidationError({"userId": ["This person already has this course open."]})
        return self._answer(assignments[0], status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=TrainingSerializer)
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        """Record the course as completed."""
        assignment = self.get_object()
        with service_errors():
            assignment = training_complete(actor=request.user, assignment=assignment)
        return self._answer(assignment)

    @extend_schema(request=None, responses=TrainingSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Withdraw the assignment."""
        assignment = self.get_object()
        with service_errors():
            assignment = training_cancel(actor=request.user, assignment=assignment)
        return self._answer(assignment)
