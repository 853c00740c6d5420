"""``python -m mfnas.evaluate``: train one configuration and print its learning curve.

For checking a configuration by hand, and for the convergence tables in the README: the
configuration is the space's default with the given JSON values on top. With ``--cv K``, a
task that offers ``cross_validate`` (recsys-rating) reports K-fold cross-validation instead.
"""

from __future__ import annotations

import json
import sys

from ConfigSpace.util import deactivate_inactive_hyperparameters

from mfnas.cli.common import OneLineParser, positive_int
from mfnas.spaces import plain_config
from mfnas.tasks import TASKS, make_task
from mfnas.tasks.device import DEVICES


def main(argv: list[str] | None = None) -> int:
    parser = OneLineParser(
        prog="python -m mfnas.evaluate",
        description="Train one configuration of a task's space and print its validation curve "
        "and final validation and test metrics.",
        epilog="example: python -m mfnas.evaluate --task recsys --epochs 40 "
        """--config '{"loss": "softmax", "num_negatives": 16}'""",
    )
    parser.add_argument("--task", required=True, choices=sorted(TASKS))
    parser.add_argument("--config", default="{}", help="JSON values over the space's defaults")
    parser.add_argument(
        "--epochs", type=positive_int, help="epochs (default: the task's max epochs)"
    )
    parser.add_argument("--seed", type=int, default=0, help="training seed (default: 0)")
    parser.add_argument("--device", choices=DEVICES, default="auto")
    parser.add_argument(
        "--cv", type=int, metavar="K", help="K-fold cross-validation over all the data instead "
        "(tasks offering it: recsys-rating); prints mean and std of the test metrics"
    )  # fmt: skip
    args = parser.parse_args(argv)
    try:
        task = make_task(args.task, device=args.device, max_epochs=args.epochs)
    except ValueError as exc:
        parser.error(str(exc))
    cross_validate = getattr(task, "cross_validate", None)
    if args.cv is not None and cross_validate is None:
        parser.error(f"--cv: task {args.task!r} has no cross-validation")
    if args.cv is not None and args.cv < 2:
        parser.error(f"--cv: K must be at least 2, got {args.cv}")
    try:
        defaults = {name: hp.default_value for name, hp in task.space.items()}
        values = {**defaults, **json.loads(args.config)}
        config = deactivate_inactive_hyperparameters(values, task.space)
        config.check_valid_configuration()
    except (ValueError, TypeError, KeyError, json.JSONDecodeError) as exc:
        parser.error(f"invalid --config: {exc}".replace("\n", " "))
    epochs = task.max_epochs  # --epochs, else the task's own
    if args.cv is not None:
        cv = cross_validate(config, epochs, args.seed, folds=args.cv)
        print(json.dumps({"config": plain_config(config), "cv": cv}, indent=1))
        return 0
    result = task.evaluate(config, epochs, args.seed)
    print(json.dumps({"config": plain_config(config), "curve": result.curve,
                      "val": result.val, "test": result.test,
                      "epoch_seconds": result.epoch_seconds}, default=str, indent=1))  # fmt: skip
    return 0


def cli() -> None:
    """Command-line entry point."""
    sys.exit(main())
