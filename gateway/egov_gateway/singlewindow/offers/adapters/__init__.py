"""The offers table and its repository."""
