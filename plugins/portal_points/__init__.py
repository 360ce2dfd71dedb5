"""The points plugin (under construction)."""
