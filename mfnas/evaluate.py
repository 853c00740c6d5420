"""``python -m mfnas.evaluate``: runs ``mfnas.cli.evaluate``."""

from mfnas.cli.evaluate import cli

if __name__ == "__main__":
    cli()
