"""Package data: ISO 3166-1 alpha-3 country list."""
