"""xAPI 1.0.3: the activity stream as statements, served to organizers and pushed to a learning record store."""
