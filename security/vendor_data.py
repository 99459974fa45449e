"""Vendor data every installation starts with: the Entra role templates of spec/security.md §3.3
and the vendor's compliance training courses. Migration 0002 loads it; tests whose database flush
empties the tables load it again.
"""

from __future__ import annotations

# (roleDefinitionId, displayName, privileged, in the default GDAP template, description)
ENTRA_ROLES = [
    (
        "88d8e3e3-8f55-4a1e-953a-9b9898b8876b",
        "Directory Readers",
        False,
        True,
        "Can read basic directory information.",
    ),
    (
        "9360feb5-f418-4baa-8175-e2a00bac4301",
        "Directory Writers",
        False,
        True,
        "Can read and write basic directory information.",
    ),
    (
        "4d6ac14f-3453-41d0-bef9-a3e0c569773a",
        "License Administrator",
        False,
        True,
        "Can manage product licenses on users and groups.",
    ),
    (
        "f023fd81-a637-4b56-95fd-791ac0226033",
        "Service Support Administrator",
        False,
        True,
        "Can read service health and open support tickets.",
    ),
    (
        "fe930be7-5e62-47db-91af-98c3a49a38b1",
        "User Administrator",
        True,
        True,
        "Can manage users and groups, including resetting passwords for limited admins.",
    ),
    (
        "e8611ab8-c189-46e8-94e1-60213ab1f814",
        "Privileged Role Administrator",
        True,
        True,
        "Can manage role assignments in Entra ID and Privileged Identity Management.",
    ),
    (
        "729827e3-9c14-49f7-bb1b-9608f156bbb8",
        "Helpdesk Administrator",
        True,
        True,
        "Can reset passwords for non-administrators and Helpdesk Administrators.",
    ),
    (
        "7be44c8a-adaf-4e2a-84d6-ab2649e08a13",
        "Privileged Authentication Administrator",
        True,
        True,
        "Can access to view, set and reset authentication method information for any user.",
    ),
    (
        "158c047a-c907-4556-b7ef-446551a6b5f7",
        "Cloud Application Administrator",
        True,
        True,
        "Can create and manage all aspects of app registrations and enterprise apps except App Proxy.",
    ),
    (
        "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3",
        "Application Administrator",
        True,
        True,
        "Can create and manage all aspects of app registrations and enterprise apps.",
    ),
    (
        "f2ef992c-3afb-46b9-b7cf-a126ee74c451",
        "Global Reader",
        False,
        True,
        "Can read everything that a Global Administrator can, but not update anything.",
    ),
    (
        "62e90394-69f5-4237-9190-012177145e10",
        "Global Administrator",
        True,
        False,
        "Can manage all aspects of Entra ID and Microsoft services that use Entra identities.",
    ),
]

COURSES = [
    (
        "csp-security-essentials",
        "CSP partner security essentials",
        45,
        "MFA, GDAP least privilege, alert handling and the mandatory security requirements.",
    ),
    (
        "anti-corruption",
        "Anti-corruption and anti-bribery",
        30,
        "The vendor's anti-corruption policy for partners, with examples from incentive programs.",
    ),
    (
        "trade-compliance",
        "Trade compliance and export controls",
        30,
        "Sanctioned parties, embargoed countries and end-use restrictions when reselling.",
    ),
    (
        "data-protection",
        "Customer data protection",
        40,
        "Handling customer data under GDPR and the partner agreement's privacy terms.",
    ),
]


def seed_vendor_data(apps) -> None:
    """Insert or refresh the rows; `apps` is a migration's app registry or django.apps.apps."""
    EntraRole = apps.get_model("security", "EntraRole")
    TrainingCourse = apps.get_model("security", "TrainingCourse")
    for role_id, name, privileged, default, description in ENTRA_ROLES:
        EntraRole.objects.update_or_create(
            role_definition_id=role_id,
            defaults={
                "display_name": name,
                "is_privileged": privileged,
                "in_default_template": default,
                "description": description,
            },
        )
    for code, title, minutes, description in COURSES:
        TrainingCourse.objects.update_or_create(
            code=code,
            defaults={
                "title": title,
                "duration_minutes": minutes,
                "description": description,
                "url": f"https://learn.vendor.example/partner-compliance/{code}",
            },
        )
