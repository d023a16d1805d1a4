"""The one path from a tool's work to its exit code: every ``paddle_repro.cli`` tool's
``main`` (and the launcher's worker) hands its work to :func:`run`.

``run`` first applies the process settings (``paddle_repro.process.prepare_process``: MKL's
AVX2 kernels on AMD, glibc keeps freed memory), then maps what can go wrong to one message on
stderr and an exit code, without a traceback where the message already names the problem:

==================================  =====  ===============================================
failure                             code   message
==================================  =====  ===============================================
``UserError`` (config, data,        2      ``<TypeName>: <message>``, one unwrapped
weights, checkpoint, run folders)          paragraph (it holds paths and commands to copy)
``TrainingInterrupted``             130 /  the signal's note and the exact command that
(first Ctrl-C / SIGTERM)            143    resumes the run
``KeyboardInterrupt`` (a Ctrl-C     130    ``Interrupted (Ctrl-C).``
outside training, or the second)
``TrainingDiverged`` (NaN loss)     1      ``Training diverged: ...``
a data-parallel peer died           1      which rank was lost and how to resume
==================================  =====  ===============================================

Anything else is a bug and keeps its traceback. Argument errors stay argparse's (exit 2 with
the usage line), before ``run`` is reached.
"""
import os
import shlex
import sys

from .. import runtime
from ..engine.interrupt import TrainingDiverged, TrainingInterrupted
from ..errors import UserError, user_error_message
from ..process import prepare_process

USER_ERROR_CODE = 2  # launch/jobs.py reads it: retrying a run that failed so cannot help
SIGINT_CODE = 130  # the shell's 128 + SIGINT, as TrainingInterrupted uses


def run(work, argv=None):
    """Applies the process settings, runs ``work()``, maps known failures to exit codes.

    Args:
        work: the tool's work, a callable without arguments; what it returns is ignored.
        argv: the command line to show in a resume command (default ``sys.argv``).

    Returns:
        0, the exit code of a tool whose work finished.

    Raises:
        SystemExit: with the code of the table in the module doc, after printing its message.
    """
    prepare_process()
    try:
        work()
    except TrainingInterrupted as err:
        _fail(f"{err}\nResume with:\n  {resume_command(err.prefix, argv)}", err.exit_code)
    except TrainingDiverged as err:
        _fail(f"Training diverged: {err}", 1)  # unwrapped: it holds a command
    except UserError as err:
        _fail(user_error_message(err), USER_ERROR_CODE)
    except KeyboardInterrupt:
        _fail("Interrupted (Ctrl-C).", SIGINT_CODE)
    except RuntimeError as err:
        message = peer_lost_message(err, runtime.rank(), runtime.world_size())
        if message is None:
            raise
        _fail(message, 1)
    return 0


def _fail(message, code):
    """Prints ``message`` on stderr and exits with ``code`` (no traceback: ``from None``)."""
    print(message, file=sys.stderr)
    raise SystemExit(code) from None


def resume_command(prefix, argv=None):
    """The command line that resumes this run from ``prefix``.

    ``python tools/train.py ...`` for a script; an installed command (``paddle-repro-train``,
    whose ``argv[0]`` is its full path in the environment's ``bin/``) is shown by its name.
    """
    argv = list(sys.argv if argv is None else argv)
    if argv and not argv[0].endswith(".py"):
        argv = [os.path.basename(argv[0])] + argv[1:]
    else:
        argv = ["python"] + argv
    return " ".join(shlex.quote(a) for a in argv + ["-o", f"Global.resume={prefix}"])


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
