"""Membership services: every rule and every write of the workspace lives here."""
