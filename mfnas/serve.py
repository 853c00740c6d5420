"""``python -m mfnas.serve``: runs ``mfnas.cli.serve``."""

from mfnas.cli.serve import cli

if __name__ == "__main__":
    cli()
