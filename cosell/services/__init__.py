"""Co-sell services, the only writers of co-sell rows: referrals and deals with their routing
(referrals.py, history through activity.py), expiry reminders (reminders.py), the notifications
they raise (notices.py), routing rules (routing.py) and the capability profile with its references
and solutions (profile.py).

Services don't check capabilities: the page (one check, `require_capability`) and the API policy
(`capabilities` per action) do, before calling them. The read side is cosell/selectors/.
"""
