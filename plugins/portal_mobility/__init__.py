"""The mobility plugin (under construction)."""
