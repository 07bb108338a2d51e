"""questionnaires layer."""
