"""A person's notifications: the bell (unread count, polled by htmx), the list with its filters,
opening one (marks it read and goes to its page), marking read, and the preferences page; the
organization's defaults for its admins."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from portal.capabilities import Capability
from portal.notifications.categories import Channel, categories
from portal.notifications.models import Notification
from portal.notifications.services import (
    defaults_set,
    notifications_mark_read,
    preferences_for,
    preferences_set,
)
from portal.paging import keyset_page
from portal.tenancy import tenant_route
from portal.views import capability_required, member_page, query_without

PAGE_SIZE = 25


def _mine(request):
    return Notification.objects.filter(recipient=request.user, organization_id=request.user.organization_id)


@member_page
def notification_bell(request):
    """The bell with the unread count: a fragment the page polls (htmx)."""
    unread = _mine(request).filter(read_at__isnull=True).count()
    return render(request, "notifications/_bell.html", {"unread": unread})


@member_page
def notification_list(request):
    """The person's notifications, newest first; filter by unread and by category."""
    notifications = _mine(request)
    shown = request.GET.get("show", "")
    if shown == "unread":
        notifications = notifications.filter(read_at__isnull=True)
    chosen = request.GET.get("category", "")
    known = {found.code: found for found in categories()}
    if chosen in known:
        notifications = notifications.filter(category=chosen)
    page = keyset_page(notifications, field_name="created_at", after=request.GET.get("after"), size=PAGE_SIZE)
    labels = {code: found.label for code, found in known.items()}
    for notification in page.rows:
        notification.category_label = labels.get(notification.category, notification.category)
    context = {
        "page": page,
        "show": shown,
        "category": chosen,
        "categories": list(known.values()),
        "query_without_cursor": query_without(request, "after"),
    }
    return render(request, "notifications/list.html", context)


@member_page
@tenant_route(Notification)
def notification_open(request, pk: int):
    """Mark the notification read and go to the page it is about."""
    notification = get_object_or_404(_mine(request), pk=pk)
    notifications_mark_read(user=request.user, ids=[notification.pk])
    target = notification.url
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return redirect(target)
    return redirect("portal:notification-list")


@member_page
@tenant_route(Notification)
@require_POST
def notification_mark_read(request, pk: int):
    notification = get_object_or_404(_mine(request), pk=pk)
    notifications_mark_read(user=request.user, ids=[notification.pk])
    if request.htmx:
        return notification_bell(request)
    return redirect(request.POST.get("next") or "portal:notification-list")


@member_page
@require_POST
def notifications_mark_all_read(request):
    count = notifications_mark_read(user=request.user)
    messages.success(request, f"{count} notification{'s' if count != 1 else ''} marked read.")
    return redirect("portal:notification-list")


def _posted_choices(request) -> dict[str, str]:
    return {
        found.code: request.POST[f"channel-{found.code}"]
        for found in categories()
        if f"channel-{found.code}" in request.POST
    }


@member_page
def notification_preferences(request):
    """How each category reaches the person; security-critical ones are always e-mailed."""
    if request.method == "POST":
        try:
            preferences_set(user=request.user, choices=_posted_choices(request))
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
        else:
            messages.success(request, "Your notification preferences are saved.")
            return redirect("portal:notification-preferences")
    context = {"rows": preferences_for(request.user), "channels": Channel.choices}
    return render(request, "notifications/preferences.html", context)


@capability_required(Capability.USERS_MANAGE)
def notification_defaults(request):
    """The organization's default channel per category (what people get until they choose)."""
    organization_id = request.user.organization_id
    if request.method == "POST":
        try:
            defaults_set(organization_id=organization_id, choices=_posted_choices(request))
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
        else:
            messages.success(request, "The organization's notification defaults are saved.")
            return redirect("portal:notification-defaults")
    rows = [{**row, "channel": row["default"]} for row in preferences_for(request.user)]
    return render(
        request,
        "notifications/preferences.html",
        {"rows": rows, "channels": Channel.choices, "organization_defaults": True},
    )
