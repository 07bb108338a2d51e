"""weighting layer."""
