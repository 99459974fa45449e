"""Who sees what: the one way pages, endpoints and exports get partner-owned rows.

Every partner-owned model uses `TenantManager` and names the path to its organization in
`tenant_path`. Views and viewsets call `Model.objects.visible_to(user)`; a row of another
organization is therefore never loaded, and looking one up answers 404.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.http import Http404


def organization_id_of(user: Any) -> int | None:
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return getattr(user, "organization_id", None)


class TenantQuerySet(models.QuerySet):
    def visible_to(self, user: Any) -> TenantQuerySet:
        """Rows of the user's organization, narrowed further by the model's role rules."""
        organization_id = organization_id_of(user)
        if organization_id is None:
            return self.none()
        path = self.model.tenant_path
        lookup = "pk" if path == "self" else f"{path}_id"
        scoped = self.filter(**{lookup: organization_id})
        narrow = getattr(self.model, "narrow_for_user", None)
        return narrow(scoped, user) if narrow else scoped


class TenantManager(models.Manager.from_queryset(TenantQuerySet)):
    pass


class TenantModel(models.Model):
    """Base for rows a partner organization owns."""

    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="+", db_index=True
    )

    tenant_path = "organization"
    objects = TenantManager()

    class Meta:
        abstract = True


class VendorDataQuerySet(models.QuerySet):
    """The vendor's own data (catalog, price lists): the same rows for every partner organization.

    `visible_to` reads like a tenant queryset, so pages and viewsets use one idiom: a member of a
    partner organization sees every row; anonymous callers and accounts outside any partner
    organization see none.
    """

    #: Tells the tenant-isolation test that these rows are shared on purpose.
    vendor_data = True

    def visible_to(self, user: Any) -> VendorDataQuerySet:
        if organization_id_of(user) is None:
            return self.none()
        return self.all()


VendorDataManager = models.Manager.from_queryset(VendorDataQuerySet)


def get_visible_or_404(queryset_or_model: Any, user: Any, **lookup: Any) -> Any:
    """Fetch one row the user may see; anything else — missing or foreign — is a 404."""
    queryset = (
        queryset_or_model
        if isinstance(queryset_or_model, models.QuerySet)
        else queryset_or_model.objects.all()
    )
    try:
        return queryset.visible_to(user).get(**lookup)
    except (queryset.model.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404(f"No {queryset.model._meta.verbose_name} matches the given query.") from exc


def tenant_route(model: type[models.Model], **sample_kwargs: str):
    """Mark a function view that acts on one `model` row by its `pk` URL argument.

    The tenant-isolation test reads this to prove another organization's row answers 404;
    `sample_kwargs` fills the route's other URL arguments.
    """

    def decorate(view):
        view.tenant_model = model
        view.tenant_sample_kwargs = sample_kwargs
        return view

    return decorate
