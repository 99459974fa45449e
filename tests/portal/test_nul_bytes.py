"""PostgreSQL text cannot hold NUL: every way a request can carry one is refused with a clear 400."""

from __future__ import annotations

import pytest

from incentives.models import Claim

pytestmark = pytest.mark.django_db

MESSAGE = "The request contains a NUL character"


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("activityType=%00&friendlyName=x", "application/x-www-form-urlencoded"),
        ('{"activityType": "\\u0000", "friendlyName": "x"}', "application/json"),
    ],
)
def test_a_nul_in_an_api_body_is_a_problem_400_and_writes_nothing(org_a, api_for, body, content_type):
    api = api_for(org_a, scopes=("incentives:read", "incentives:write"))

    response = api.generic("POST", "/api/v1/incentives/claims/", body, content_type=content_type)

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert MESSAGE in response.json()["detail"]
    assert not Claim.objects.exists()


def test_a_nul_in_a_page_form_is_a_plain_400(alice, verified_client):
    response = verified_client(alice).post(
        "/users/invite/", "email=a%00%40b.example", content_type="application/x-www-form-urlencoded"
    )

    assert response.status_code == 400
    assert MESSAGE.encode() in response.content
