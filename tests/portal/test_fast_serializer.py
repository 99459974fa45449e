import pytest

from accounts.api import AuditEventSerializer
from accounts.api_customers import CustomerColumnsSerializer, CustomerSerializer
from accounts.models import Customer
from portal.api import plain_columns
from portal.models import AuditEvent
from tests.factories import AuditEventFactory, CustomerFactory


@pytest.mark.django_db
def test_same_output(org_a):
    CustomerFactory(organization=org_a, employee_count=None)
    CustomerFactory(organization=org_a, employee_count=12)
    AuditEventFactory(organization=org_a, changes={"a": [1, 2]}, ip_address="10.0.0.1")
    for ser, model in [(CustomerColumnsSerializer, Customer), (AuditEventSerializer, AuditEvent)]:
        cols = plain_columns(ser)
        assert cols, ser
        objs = list(model.objects.order_by("-id"))
        rows = list(model.objects.order_by("-id").values(*cols))
        assert ser(objs, many=True).data == ser(rows, many=True).data


@pytest.mark.django_db
def test_the_customer_document_is_built_on_the_fast_columns(org_a):
    """The customers list renders Partner Center's nested document from the fast path's columns."""
    CustomerFactory(organization=org_a, employee_count=None)
    CustomerFactory(organization=org_a, employee_count=12)
    cols = plain_columns(CustomerColumnsSerializer)
    objs = list(Customer.objects.order_by("-id"))
    rows = list(Customer.objects.order_by("-id").values(*cols))
    assert CustomerSerializer(objs, many=True).data == CustomerSerializer(rows, many=True).data


@pytest.mark.parametrize(("max_digits", "decimal_places"), [(18, 6), (12, 8), (5, 0)])
def test_decimal_columns_render_as_drf_does(max_digits, decimal_places):
    from decimal import Decimal

    from rest_framework import serializers

    from portal.api import column_reader

    field = serializers.DecimalField(max_digits=max_digits, decimal_places=decimal_places, read_only=True)
    fast = column_reader(field)
    assert fast is not field.to_representation

    def rendered(render, value):
        try:
            return render(value)
        except Exception as exc:  # noqa: BLE001 - both must fail alike
            return type(exc)

    values = [
        "0E-8",
        "0",
        "12.5",
        "-3.1234567891",
        "123456789012.123456",
        "0.000000005",
        "0.000000015",
        "99999",
    ]
    for value in map(Decimal, values):
        assert rendered(fast, value) == rendered(field.to_representation, value), value
