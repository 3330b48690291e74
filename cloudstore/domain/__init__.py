"""Pure rules: no I/O here, so they are easy to test."""
