"""The read side of co-sell: every query the pages, the API and the admin read through.

Nothing here writes; the writers are cosell/services/. A selector takes the user whose view it is
(rows come from `visible_to(user)`) or an organization the caller already scoped to.
"""
