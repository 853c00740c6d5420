"""``python -m mfnas.collect``: runs ``mfnas.cli.collect``."""

from mfnas.cli.collect import cli

if __name__ == "__main__":
    cli()
