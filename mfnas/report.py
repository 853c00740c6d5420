"""``python -m mfnas.report``: runs ``mfnas.cli.report``."""

from mfnas.cli.report import cli

if __name__ == "__main__":
    cli()
