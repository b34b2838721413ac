"""Persistence: tables, engine/session, read queries and migrations."""
