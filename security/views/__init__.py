"""Pages of the Security workspace: posture (score, MFA, alerts), delegated access, compliance."""
