"""``python -m rxfeeds``: the ``rxfeeds`` command line (same as the console script)."""

from rxfeeds.cli import main

if __name__ == "__main__":
    main()
