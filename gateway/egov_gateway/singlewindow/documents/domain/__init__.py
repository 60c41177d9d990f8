"""The document a person reads: its fields in their language, its verification link."""
