"""The activity stream: who did what, when and where (xAPI-shaped)."""
