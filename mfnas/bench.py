"""``python -m mfnas.bench``: runs ``mfnas.cli.bench``."""

from mfnas.cli.bench import cli

if __name__ == "__main__":
    cli()
