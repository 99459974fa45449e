import pytest

from accounts.api import AuditEventSerializer, CustomerSerializer
from accounts.models import Customer
from portal.api import plain_columns
from portal.models import AuditEvent
from tests.factories import AuditEventFactory, CustomerFactory


@pytest.mark.django_db
def test_same_output(org_a):
    CustomerFactory(organization=org_a, employee_count=None)
    CustomerFactory(organization=org_a, employee_count=12)
    AuditEventFactory(organization=org_a, changes={"a": [1, 2]}, ip_address="10.0.0.1")
    for ser, model in [(CustomerSerializer, Customer), (AuditEventSerializer, AuditEvent)]:
        cols = plain_columns(ser)
        assert cols, ser
        objs = list(model.objects.order_by("-id"))
        rows = list(model.objects.order_by("-id").values(*cols))
        assert ser(objs, many=True).data == ser(rows, many=True).data
