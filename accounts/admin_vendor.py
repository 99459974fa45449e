"""The admin page of vendor clients (accounts.vendor_api): vendor staff create one with its feed
scopes, see its client ID and secret once, and revoke it."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse

from accounts.models import VendorClient
from accounts.services import vendor_clients
from portal.views import form_errors


class VendorClientForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="The system that will call the feeds, e.g. “Billing”.")
    scopes = forms.MultipleChoiceField(
        widget=forms.CheckboxSelectMultiple,
        help_text="Each feed it may read (GET) or write (POST) at /api/v1/vendor/<feed>/.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["scopes"].choices = sorted(settings.VENDOR_SCOPES.items())


@admin.register(VendorClient)
class VendorClientAdmin(admin.ModelAdmin):
    list_display = ("name", "client_id", "scopes", "created_at", "revoked_at")
    readonly_fields = ("name", "client_id", "scopes", "created_by", "created_at", "revoked_at")
    fields = readonly_fields
    actions = ["revoke"]

    @admin.display(description="Client ID")
    def client_id(self, client: VendorClient) -> str:
        return client.application.client_id

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def add_view(self, request, form_url="", extra_context=None):
        form = VendorClientForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                client, secret = vendor_clients.vendor_client_create(actor=request.user, **form.cleaned_data)
            except ValidationError as exc:
                form_errors(form, exc)
            else:
                messages.warning(
                    request,
                    f"Vendor client “{client.name}” created. Client ID: {client.application.client_id} — "
                    f"client secret: {secret} (shown only now: store it in the calling system). "
                    "Get a token with POST /o/token/ (client credentials, scope = the feed scopes).",
                )
                return HttpResponseRedirect(reverse("admin:accounts_vendorclient_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "title": "Add a vendor client",
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/accounts/vendorclient/add.html", context)

    @admin.action(description="Revoke the selected clients (their tokens stop working at once)")
    def revoke(self, request, queryset):
        for client in queryset.filter(revoked_at__isnull=True):
            vendor_clients.vendor_client_revoke(actor=request.user, client=client)
        messages.success(request, "Revoked.")
