"""Deterministic demo data of the Co-sell workspace: capability profiles, case studies, solutions,
inbound routing rules, and referrals and deals in every state a partner meets.

Each demo organization (`organizations`) gets a capability profile, customer references and
published solutions (`catalogue`), and routing rules (`routing`). Referrals (`referral_data`, one
row per referral) are driven through the real services (`referrals`). Won deals are not
registration-eligible, so the 72-hour hold does not apply; the eligible co-sell deal stays open.

A second seed (`seed.cosell_demo_seed`) adds nothing: profiles, case studies, solutions and rules
are upserted, referrals are made only while the demo organizations have none.
"""
