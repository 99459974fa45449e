"""Customer list import, the reading half: the file validated in full before anything is written
(the writing half, the job, is accounts.services.customer_import)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile

from accounts.choices import CustomerSegment
from accounts.models import Customer, Organization, customer_name_validator
from portal.uploads import RowError, read_table, validate_rows

IMPORT_COLUMNS = ["name", "domain", "country", "segment"]


def customers_import_validate(*, organization: Organization, upload: UploadedFile) -> list[dict[str, Any]]:
    """Every row checked; raises UploadRejected listing each bad row. Writes nothing."""
    frame = read_table(upload, required_columns=IMPORT_COLUMNS)
    existing = set(Customer.objects.filter(organization=organization).values_list("domain", flat=True))
    seen: dict[str, int] = {}

    def check(row_number: int, row: dict[str, str]):
        errors = []
        domain = row["domain"].lower()
        if not row["name"]:
            errors.append(RowError(row_number, "name", "is empty"))
        try:
            customer_name_validator(row["name"])
        except ValidationError as exc:
            errors.extend(RowError(row_number, "name", message) for message in exc.messages)
        if "." not in domain or " " in domain:
            errors.append(RowError(row_number, "domain", f"{row['domain']!r} is not a domain"))
        elif domain in existing:
            errors.append(RowError(row_number, "domain", f"{domain} is already a customer"))
        elif domain in seen:
            errors.append(RowError(row_number, "domain", f"{domain} repeats row {seen[domain]}"))
        seen.setdefault(domain, row_number)
        country = row["country"].upper()
        if len(country) != 2 or not country.isalpha():
            errors.append(RowError(row_number, "country", f"{row['country']!r} is not an ISO alpha-2 code"))
        segment = row["segment"].lower()
        if segment not in CustomerSegment.values:
            errors.append(
                RowError(
                    row_number,
                    "segment",
                    f"{row['segment']!r} is not one of {', '.join(CustomerSegment.values)}",
                )
            )
        employees = row.get("employee_count", "")
        if employees and not employees.isdigit():
            errors.append(RowError(row_number, "employee_count", f"{employees!r} is not a whole number"))
        value = {
            "name": row["name"],
            "domain": domain,
            "country": country,
            "segment": segment,
            "employee_count": int(employees) if employees.isdigit() else None,
        }
        return value, errors

    return validate_rows(frame, check)
