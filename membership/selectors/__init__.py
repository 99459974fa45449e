"""Membership read side: the queries pages and the API read through, one module per area.

Writers are in `membership.services`; nothing here changes state or checks capabilities (the page
and the API policy do, before calling).
"""
