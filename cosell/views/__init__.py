"""Co-sell pages: referrals and deals (referrals.py), the deal workflow (deals.py), routing rules and
their tester (routing.py), the capability profile and matching (profile.py), insights (insights.py).

Views parse input, name the capability they need (`@capability_required`; a referral also needs the
row check of `referral_or_404`), read through cosell.selectors and write through cosell.services,
whose ValidationErrors are shown next to the field they name, or at the top when no field does.
"""
