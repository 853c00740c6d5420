"""``python -m mfnas.export``: runs ``mfnas.cli.export``."""

from mfnas.cli.export import cli

if __name__ == "__main__":
    cli()
