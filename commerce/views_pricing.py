"""Price list pages of the Commerce workspace: the lists, one list's rows, the diff of two lists.

Price lists are the vendor's data, the same for every partner, so they are not tenant rows.
`PriceList.objects.visible_to(user)` and `PriceListRow.objects.visible_to(user)`
(portal.tenancy.VendorDataQuerySet) return every row to a member of a partner organization and
none to anyone else; the pages read through them like any tenant page, and the capability
`pricing.view` decides who may open them.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render

from commerce.choices import PriceListStatus
from commerce.filters import PriceListFilter, PriceListRowFilter
from commerce.models import PriceList, PriceListRow
from commerce.pricing import diff, downloads
from portal.capabilities import Capability, can
from portal.files import csv_response
from portal.tenancy import get_visible_or_404, tenant_route
from portal.views import TenantListView

C = Capability
DIFF_PAGE_SIZE = 100


class PriceListIndexView(TenantListView):
    model = PriceList
    capability = C.PRICING_VIEW
    filterset_class = PriceListFilter
    template_name = "commerce/price_list_index.html"
    partial_template_name = "commerce/_price_list_table.html"


class PriceListDetailView(TenantListView):
    """One list's rows with the filters, search and paging; htmx gets the table only."""

    model = PriceList  # the URL's pk is a price list (the tenant-isolation walk reads this)
    capability = C.PRICING_VIEW
    filterset_class = PriceListRowFilter
    template_name = "commerce/price_list_detail.html"
    partial_template_name = "commerce/_price_list_rows.html"

    def get_queryset(self):
        self.price_list = get_visible_or_404(PriceList, self.request.user, pk=self.kwargs["pk"])
        rows = PriceListRow.objects.visible_to(self.request.user).filter(price_list=self.price_list)
        self.filterset = self.filterset_class(self.request.GET, queryset=rows, request=self.request)
        return self.filterset.qs

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["price_list"] = self.price_list
        context["comparable"] = _comparable(self.request.user, self.price_list)
        return context


@tenant_route(PriceList)
def price_list_rows_csv(request, pk: int):
    """The list's rows as filtered on the page, in the file's own column layout."""
    price_list = _price_list_or_404(request, pk)
    rows = PriceListRow.objects.visible_to(request.user).filter(price_list=price_list)
    filterset = PriceListRowFilter(request.GET, queryset=rows, request=request)
    content = downloads.price_list_rows_csv(rows=filterset.qs, end_of_sale=price_list.is_preview)
    return csv_response(content, f"price-list-{price_list.market}-{price_list.effective_month:%Y-%m}.csv")


@tenant_route(PriceList)
def price_list_diff(request, pk: int):
    """What this list changes against another list (`?against=`): New, Removed, Changed."""
    price_list = _price_list_or_404(request, pk)
    comparable = _comparable(request.user, price_list)
    base = _against(request, price_list, comparable)
    change = request.GET.get("change") if request.GET.get("change") in diff.Change.ALL else None
    context = {
        "price_list": price_list,
        "base": base,
        "comparable": comparable,
        "change": change,
        "changes": diff.Change.ALL,
    }
    if base is not None:
        context["counts"] = diff.price_list_diff_counts(base=base, other=price_list)
        changes = diff.price_list_diff(base=base, other=price_list, change=change)
        context["page_obj"] = Paginator(changes, DIFF_PAGE_SIZE).get_page(request.GET.get("page"))
        query = request.GET.copy()
        query.pop("page", None)
        context["query_without_page"] = query.urlencode()
    return render(request, "commerce/price_list_diff.html", context)


@tenant_route(PriceList)
def price_list_diff_csv(request, pk: int):
    price_list = _price_list_or_404(request, pk)
    base = _against(request, price_list, _comparable(request.user, price_list))
    if base is None:
        raise Http404("There is no earlier list of this market to compare with; name one with ?against=.")
    change = request.GET.get("change") if request.GET.get("change") in diff.Change.ALL else None
    content = downloads.price_list_diff_csv(base=base, other=price_list, change=change)
    name = (
        f"price-list-diff-{price_list.market}-{base.effective_month:%Y-%m}-{base.pk}"
        f"-to-{price_list.effective_month:%Y-%m}-{price_list.pk}.csv"
    )
    return csv_response(content, name)


# --- Helpers ----------------------------------------------------------------------------------------


def _price_list_or_404(request, pk: int) -> PriceList:
    if not can(request.user, C.PRICING_VIEW):
        raise PermissionDenied("Your roles don't allow this page.")
    return get_visible_or_404(PriceList, request.user, pk=pk)


def _comparable(user, price_list: PriceList) -> list[PriceList]:
    """Ready lists of the same market and currency a list can be compared with, newest first."""
    return list(
        PriceList.objects.visible_to(user)
        .filter(market=price_list.market, currency=price_list.currency, status=PriceListStatus.READY)
        .exclude(pk=price_list.pk)
    )


def _against(request, price_list: PriceList, comparable: list[PriceList]) -> PriceList | None:
    """The list named by `?against=`, else the newest current list before this one, if any."""
    wanted = request.GET.get("against")
    if wanted:
        return get_visible_or_404(
            PriceList.objects.filter(pk__in=[other.pk for other in comparable]), request.user, pk=wanted
        )
    earlier = [
        other
        for other in comparable
        if not other.is_preview and other.effective_month <= price_list.effective_month
    ]
    return earlier[0] if earlier else None
