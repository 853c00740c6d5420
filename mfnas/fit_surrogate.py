"""``python -m mfnas.fit_surrogate``: runs ``mfnas.cli.fit_surrogate``."""

from mfnas.cli.fit_surrogate import cli

if __name__ == "__main__":
    cli()
