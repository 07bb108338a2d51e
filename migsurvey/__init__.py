"""migsurvey layer."""
