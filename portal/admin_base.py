"""Pieces every workspace's admin shares: read-only bases for service-written rows, form actions."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.shortcuts import render
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from portal.history import history_for


def html_table(headers: tuple[str, ...], rows: Iterable[tuple], *, table_id: str = "") -> str:
    """A read-only admin field as a small table; every cell is escaped."""
    head = format_html_join("", "<th>{}</th>", ((header,) for header in headers))
    cells = "".join("<td>{}</td>" for _ in headers)
    body = format_html_join("", f"<tr>{cells}</tr>", rows)
    table = format_html('<table id="{}">', table_id) if table_id else mark_safe("<table>")
    return format_html("{}<thead><tr>{}</tr></thead><tbody>{}</tbody></table>", table, head, body)


def history_table(obj, columns: tuple[str, ...], values: Callable[[Any], tuple], *, table_id: str) -> str:
    """`obj`'s history (portal.history), oldest first, as a table: when, who, then `values(event)`."""
    events = list(history_for(obj))
    if not events:
        return "No change recorded."
    return html_table(
        ("When", "Who", *columns),
        ((f"{event.at:%Y-%m-%d %H:%M}", event.actor_label, *values(event)) for event in events),
        table_id=table_id,
    )


def action_with_form(modeladmin, request, queryset, *, form_class, title, action, apply):
    """A form between the change list and the action; `apply(obj, data)` per object once it is valid.

    A service's ValidationError is shown as that object's error; the others go on.
    """
    form = form_class(request.POST if "apply" in request.POST else None)
    if form.is_bound and form.is_valid():
        done = 0
        for obj in queryset.order_by("pk"):
            try:
                apply(obj, form.cleaned_data)
                done += 1
            except ValidationError as exc:
                modeladmin.message_user(request, f"{obj}: {'; '.join(exc.messages)}", messages.ERROR)
        if done:
            modeladmin.message_user(request, f"{title}: {done} done.", messages.SUCCESS)
        return None
    return render(
        request,
        "admin/intermediate_action.html",
        {
            **modeladmin.admin_site.each_context(request),
            "title": title,
            "form": form,
            "objects": queryset,
            "action": action,
            "opts": modeladmin.model._meta,
        },
    )


class ServiceOwnedAdmin(admin.ModelAdmin):
    """Rows the services write: listed and shown, never added, edited or deleted here."""

    # Ledgers run to millions of rows: don't count the whole table on every page.
    show_full_result_count = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class DecidedByActionsAdmin(admin.ModelAdmin):
    """Rows whose status only moves through the list's actions (which call the services): the
    change page is read-only, nothing is added or deleted here, and the actions need the model's
    change permission."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        opts = self.model._meta
        return obj is None and request.user.has_perm(f"{opts.app_label}.change_{opts.model_name}")


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
