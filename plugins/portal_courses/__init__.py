"""The courses plugin (under construction)."""
