"""The organization tree, members and role assignments."""
