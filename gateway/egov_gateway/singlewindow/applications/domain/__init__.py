"""Applications, steps and their state machine (pure Python)."""
