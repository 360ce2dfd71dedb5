"""Site administration: plugins, settings, accounts, permissions."""
