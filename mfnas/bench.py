"""``python -m mfnas.bench``: runs ``mfnas.cli.bench`` (with its hash seed pinned first)."""

if __name__ == "__main__":
    import sys

    from mfnas.cli.hash_seed import pin_hash_seed

    pin_hash_seed("mfnas.bench")  # before the heavy imports: a re-execution starts bare
    try:
        from mfnas.cli.bench import cli
    except KeyboardInterrupt:
        print("interrupted while starting; nothing was run", file=sys.stderr)
        sys.exit(130)
    cli()
