"""Survey specifications shipped with migsurvey (the demo)."""
