"""Co-sell services: the only writers of referrals (referrals.py) and the routing of inbound ones
(routing.py). Matching and insights (matching.py, insights.py) only read."""
