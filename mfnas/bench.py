"""``python -m mfnas.bench`` and ``mfnas-bench``: ``mfnas.cli.bench`` with its hash seed pinned
before anything heavy is imported (a re-execution then starts a bare interpreter)."""

import sys


def cli() -> None:
    """Pin ``PYTHONHASHSEED`` (``mfnas.cli.hash_seed``), then run ``mfnas.cli.bench.main``."""
    from mfnas.cli.hash_seed import pin_hash_seed

    pin_hash_seed("mfnas.bench")
    try:
        from mfnas.cli.bench import main
    except KeyboardInterrupt:
        print("interrupted while starting; nothing was run", file=sys.stderr)
        sys.exit(130)
    sys.exit(main())


if __name__ == "__main__":
    cli()
