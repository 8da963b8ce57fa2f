"""Training of the singer classifiers: the loop and what it can train against."""
