"""Price list pages of the Commerce workspace: the lists, one list's rows, the diff of two lists.

Price lists are the vendor's data, the same for every partner, so they are not tenant rows.
`PriceList.objects.visible_to(user)` and `PriceListRow.objects.visible_to(user)`
(portal.tenancy.VendorDataQuerySet) return every row to a member of a partner organization and
none to anyone else; the pages read through them like any tenant page, and the capability
`pricing.view` decides who may open them.

A list a corrected file replaced stays readable, marked replaced with a link to its successor; the
corrected list's diff compares it with the list it replaced by default.
"""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render

from commerce import selectors
from commerce.filters import PriceListFilter, PriceListRowFilter
from commerce.models import PriceList
from commerce.pricing import diff, downloads
from portal.capabilities import Capability
from portal.files import csv_response
from portal.tenancy import get_visible_or_404, tenant_route
from portal.views import TenantListView, capability_required, query_without

C = Capability
DIFF_PAGE_SIZE = 100


class PriceListIndexView(TenantListView):
    model = PriceList
    capability = C.PRICING_VIEW
    filterset_class = PriceListFilter
    template_name = "commerce/price_list_index.html"
    partial_template_name = "commerce/_price_list_table.html"
    select_related = ("replaced_by",)


class PriceListDetailView(TenantListView):
    """One list's rows with the filters, search and paging; htmx gets the table only."""

    model = PriceList  # the URL's pk is a price list (the tenant-isolation walk reads this)
    capability = C.PRICING_VIEW
    filterset_class = PriceListRowFilter
    template_name = "commerce/price_list_detail.html"
    partial_template_name = "commerce/_price_list_rows.html"

    def get_queryset(self):
        self.price_list = get_visible_or_404(
            PriceList.objects.select_related("replaced_by"), self.request.user, pk=self.kwargs["pk"]
        )
        rows = selectors.price_list_rows(self.request.user, self.price_list)
        self.filterset = self.filterset_class(self.request.GET, queryset=rows, request=self.request)
        return self.filterset.qs

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["price_list"] = self.price_list
        context["comparable"] = _comparable(self.request.user, self.price_list)
        return context


@tenant_route(PriceList)
@capability_required(C.PRICING_VIEW)
def price_list_rows_csv(request, pk: int):
    """The list's rows as filtered on the page, in the file's own column layout."""
    price_list = get_visible_or_404(PriceList, request.user, pk=pk)
    rows = selectors.price_list_rows(request.user, price_list)
    filterset = PriceListRowFilter(request.GET, queryset=rows, request=request)
    content = downloads.price_list_rows_csv(rows=filterset.qs, end_of_sale=price_list.is_preview)
    return csv_response(content, f"price-list-{price_list.market}-{price_list.effective_month:%Y-%m}.csv")


@tenant_route(PriceList)
@capability_required(C.PRICING_VIEW)
def price_list_diff(request, pk: int):
    """What this list changes against another list (`?against=`): New, Removed, Changed."""
    price_list = get_visible_or_404(PriceList, request.user, pk=pk)
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
        context["query_without_page"] = query_without(request, "page")
    return render(request, "commerce/price_list_diff.html", context)


@tenant_route(PriceList)
@capability_required(C.PRICING_VIEW)
def price_list_diff_csv(request, pk: int):
    price_list = get_visible_or_404(PriceList, request.user, pk=pk)
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


def _comparable(user, price_list: PriceList) -> list[PriceList]:
    """The lists this one can be compared with: the ready lists of its market and currency, and
    first the lists it replaced as a corrected file (newest first)."""
    replaced = list(
        PriceList.objects.visible_to(user).filter(replaced_by=price_list).order_by("-uploaded_at")
    )
    ready = selectors.comparable_price_lists(user, price_list)
    return [*replaced, *(other for other in ready if other not in replaced)]


def _against(request, price_list: PriceList, comparable: list[PriceList]) -> PriceList | None:
    """The list named by `?against=`, else the list a correction replaced, else the newest current
    list before this one, if any."""
    wanted = request.GET.get("against")
    if wanted:
        return get_visible_or_404(
            PriceList.objects.filter(pk__in=[other.pk for other in comparable]), request.user, pk=wanted
        )
    replaced = [other for other in comparable if other.replaced_by_id == price_list.pk]
    if replaced:
        return replaced[0]
    earlier = [
        other
        for other in comparable
        if not other.is_preview and other.effective_month <= price_list.effective_month
    ]
    return earlier[0] if earlier else None
