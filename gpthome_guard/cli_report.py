"""cli: `guard report` (being written)."""
