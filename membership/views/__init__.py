"""Membership workspace pages; each module owns one area of the workspace."""
