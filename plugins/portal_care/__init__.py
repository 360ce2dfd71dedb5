"""The care plugin (under construction)."""
