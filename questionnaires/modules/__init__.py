"""Question modules (versioned YAML) shipped with the package."""
