"""Accounts: login by username or phone, passwords, sessions, API tokens."""
