"""Accounts: the user table, profile endpoints, superuser administration, the current user."""
