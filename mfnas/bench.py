"""``python -m mfnas.bench``: runs ``mfnas.cli.bench`` (with its hash seed pinned first)."""

if __name__ == "__main__":
    from mfnas.cli.hash_seed import pin_hash_seed

    pin_hash_seed("mfnas.bench")  # before the heavy imports: a re-execution starts bare
    from mfnas.cli.bench import cli

    cli()
