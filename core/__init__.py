"""Shared foundations every feature module builds on: settings, database, security, the app."""
