"""cli: `python -m gpthome_guard` runs the `guard` command."""

from gpthome_guard.cli import main

if __name__ == "__main__":
    main()
