"""gpthome_guard: keeps an AI agent's home directory valid, safe and archived."""

__version__ = "0.1.0"
