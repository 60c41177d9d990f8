"""Making, confirming and declining offers; the life-event handlers."""
