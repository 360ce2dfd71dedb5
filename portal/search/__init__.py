"""Full-text search: one whoosh index in the instance folder."""
