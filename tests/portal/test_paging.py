"""Numbered pages never count a whole table: a capped count and one row of lookahead."""

from __future__ import annotations

import pytest
from django.core.paginator import EmptyPage
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Customer
from portal import paging
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def customers(org_a):
    for _ in range(7):
        CustomerFactory(organization=org_a)
    return Customer.objects.filter(organization=org_a).order_by("pk")


def test_a_page_knows_its_next_page_by_reading_one_row_more(customers):
    paginator = paging.LookaheadPaginator(customers, 3)
    first, last = paginator.page(1), paginator.page(3)
    assert len(first.object_list) == 3 and first.has_next()
    assert len(last.object_list) == 1 and not last.has_next() and last.has_previous()
    with pytest.raises(EmptyPage):
        paginator.page(4)


def test_the_count_stops_at_the_cap_and_pages_past_it_stay_reachable(customers, monkeypatch):
    monkeypatch.setattr(paging, "COUNT_CAP", 4)
    paginator = paging.LookaheadPaginator(customers, 2)
    assert paginator.count == 5 and paginator.count_is_capped
    assert paginator.count_text == "4+ rows"
    assert paginator.page(4).has_next() is False  # the 7th row, past the counted 5
    assert [c.pk for c in paginator.page(4).object_list] == [customers[6].pk]


def test_a_page_costs_two_queries_whatever_the_size(customers):
    with CaptureQueriesContext(connection) as queries:
        page = paging.LookaheadPaginator(customers, 3).page(2)
        page.paginator.count_text  # noqa: B018 - the count is what the list shows
    assert len(queries) == 2
    assert "LIMIT 1001" in queries[0]["sql"] or "LIMIT 1001" in queries[1]["sql"]
