"""cli: `guard doctor` (being written)."""
