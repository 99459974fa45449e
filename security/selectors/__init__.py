"""Read-side queries of the Security workspace: what its pages and its API read, in one place.

Writers live in security/services/; nothing here changes a row.
"""
