"""Shared command-line plumbing of the tools (``train``, ``eval``, ``predict``, ``reproduce``).

Errors a user can cause (config, data, weights, checkpoint) are printed as one paragraph
on stderr with exit code 2 -- no traceback, since the message already names the problem
and the fix. A NaN loss exits 1; a graceful Ctrl-C/SIGTERM exits 130/143 after printing
the exact command that resumes the run.
"""
import argparse
import shlex
import sys

from .. import runtime
from ..errors import UserError, user_error_message
from .interrupt import TrainingDiverged, TrainingInterrupted


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


def resume_command(prefix, argv=None):
    """The command line that resumes this run from ``prefix``."""
    argv = list(sys.argv if argv is None else argv)
    return " ".join(shlex.quote(a) for a in ["python"] + argv + ["-o", f"Global.resume={prefix}"])


# what a collective raises when a peer process is gone (gloo on CPU, NCCL on GPU)
PEER_LOST = ("Connection reset by peer", "Connection closed by peer", "gloo", "NCCL")


def peer_lost_message(err, rank, world_size):
    """One line for a data-parallel rank whose peer died, or None if ``err`` is not that."""
    text = str(err)
    if world_size < 2 or not any(marker in text for marker in PEER_LOST):
        return None
    peer = f"rank {1 - rank}" if world_size == 2 else "another rank"
    first = text.strip().splitlines()[-1][:200] if text.strip() else type(err).__name__
    return (f"Data parallel: rank {rank} of {world_size} lost {peer}, which died (killed, out of "
            f"memory or crashed; the launcher's log names it: 'Container rank K status failed'). "
            f"[{first}] The checkpoints saved before are intact in Global.output_dir; resume "
            "with the same launch command plus -o Global.resume=auto.")


def run(main, argv=None):
    """Runs ``main()`` and maps known failures to messages and exit codes."""
    try:
        main()
    except TrainingInterrupted as err:
        print(f"{err}\nResume with:\n  {resume_command(err.prefix, argv)}", file=sys.stderr)
        sys.exit(err.exit_code)
    except TrainingDiverged as err:
        print(f"Training diverged: {err}", file=sys.stderr)  # unwrapped: it holds a command
        sys.exit(1)
    except UserError as err:
        print(user_error_message(err), file=sys.stderr)
        sys.exit(2)
    except RuntimeError as err:
        message = peer_lost_message(err, runtime.rank(), runtime.world_size())
        if message is None:
            raise
        print(message, file=sys.stderr)
        sys.exit(1)
