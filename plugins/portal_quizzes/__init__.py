"""The quizzes plugin (under construction)."""
