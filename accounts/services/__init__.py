"""The only writers of the accounts tables, one module per subject; each change is audited.

Services don't check capabilities: pages and the API policy do before calling them. They enforce
the business rules of the rows they change (e.g. who may grant which role, `people.roles_grant_check`).
"""
