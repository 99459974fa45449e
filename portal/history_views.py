"""An object's history as a CSV file that carries its hash chain, so it can be checked outside
the portal (the recipe is in `portal.chain`).

The columns are the canonical fields in the order they are hashed, then `hash` and `canonical`,
the exact text whose SHA-256 is `hash`. Field cells pass through the file writer's formula
guard like every portal file; `canonical` starts with "[" and so is never altered.

Who may download it is whoever may see the object: the route names the object's type by
content type id and resolves the model through ContentType (portal imports no app). The model
names who may read its history (`history_capabilities`, checked by `require_capability`) and
its own `visible_to(user)` decides on the row; another organization's object, or a type whose
history is not offered, is a 404.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import chain
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.http import Http404, HttpRequest, HttpResponseBase
from django.views.decorators.http import require_GET

from portal.chain import canonical_json
from portal.files import csv_response, text_rows
from portal.history import content_type_label, history_for, link_of
from portal.models import HistoryEvent
from portal.tenancy import get_visible_or_404
from portal.views import member_page, require_capability

HEADER = (
    "organization_id",
    "seq",
    "prev_hash",
    "content_type",
    "object_id",
    "actor_id",
    "actor_label",
    "from_status",
    "to_status",
    "note",
    "at",
    "data",
    "hash",
    "canonical",
)


@member_page  # the capability depends on the object's type: `history_capabilities`, below
@require_GET
def history_download(request: HttpRequest, content_type_id: int, object_id: str) -> HttpResponseBase:
    subject = _visible_subject(request, content_type_id, object_id)
    label = content_type_label(ContentType.objects.get_for_id(content_type_id))
    rows = chain([HEADER], _rows(history_for(subject), label))
    return csv_response(text_rows(rows), f"history-{label}-{subject.pk}.csv")


def _visible_subject(request: HttpRequest, content_type_id: int, object_id: str) -> Any:
    try:
        model = ContentType.objects.get_for_id(content_type_id).model_class()
    except ContentType.DoesNotExist as exc:
        raise Http404("No such object.") from exc
    capabilities = getattr(model, "history_capabilities", None)
    rows = model._default_manager.all() if model is not None else None
    if not capabilities or not hasattr(rows, "visible_to"):
        raise Http404("No such object.")
    require_capability(request, *capabilities)
    return get_visible_or_404(rows, request.user, pk=object_id)


def _rows(events: Iterable[HistoryEvent], label: str) -> Iterator[tuple[Any, ...]]:
    """Each event's canonical values (its data as canonical JSON), its hash, its canonical text."""
    for event in events:
        values = link_of(event, label).values()
        yield (*values[:-1], canonical_json(values[-1]), event.hash, canonical_json(values))
