"""Open Badges 2.0: hosted assertions for what members earned (course certificates, points badges)."""
