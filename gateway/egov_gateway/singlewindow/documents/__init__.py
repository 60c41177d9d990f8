"""Citizens' documents: what a completed service issued, for a person to read, print and verify."""
