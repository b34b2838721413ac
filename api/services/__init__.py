"""Keyword-only service functions: the routes' only way to reach data and workflows."""
