"""Computing the figures from the owners' read models."""
