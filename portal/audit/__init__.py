"""Audit log of administrative actions and views of sensitive data."""
