"""Argument parsing every tool shares: ``-c cfg.yaml`` and PaddleClas's ``-o KEY=VALUE``."""
import argparse


def add_override_argument(parser, help="override a config key, e.g. Global.epochs=1"):
    """``-o KEY=VALUE [KEY=VALUE ...]``, repeatable: both ``-o A=1 B=2`` and ``-o A=1 -o B=2``.

    Every tool takes overrides this way (PaddleClas's form); call :func:`take_overrides`
    after parsing.
    """
    parser.add_argument("-o", "--override", action="append", nargs="+", default=[],
                        metavar="KEY=VALUE", help=help)


def take_overrides(args, positional=None):
    """Flattens ``args.override``; words without ``=`` go back to ``args.<positional>``.

    ``-o`` takes several values, so in ``predict.py -o A=1 cat.png`` argparse hands
    ``cat.png`` to ``-o``; an override always has ``=``, so such words are the tool's
    positional arguments (appended to the list named ``positional``).
    """
    flat = [o for group in args.override for o in group]
    args.override = [o for o in flat if "=" in o]
    stray = [o for o in flat if "=" not in o]
    if positional is not None:
        setattr(args, positional, list(getattr(args, positional) or []) + stray)
    elif stray:
        raise SystemExit(f"error: -o expects Section.key=value, got {stray[0]!r} "
                         "(put positional arguments before -o)")
    return args


def parse_args(description, argv=None):
    """``-c cfg.yaml -o Section.key=value ...`` (``-o`` repeatable, several values each)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("-c", "--config", required=True, help="YAML config file")
    add_override_argument(parser)
    return take_overrides(parser.parse_args(argv))
