"""Graceful stop on Ctrl-C / SIGTERM: finish the current step, save ``latest``, exit.

The first SIGINT/SIGTERM only sets a flag that the training loop checks after every
optimizer step; a second one restores the default handler behaviour (immediate
``KeyboardInterrupt``) for a user who really wants out. The exit codes follow the shell
convention 128 + signal number: 130 for SIGINT, 143 for SIGTERM.
"""
import signal
import threading


class TrainingInterrupted(RuntimeError):
    """Raised by the trainer after it saved ``latest`` because of a signal.

    Attributes:
        prefix: checkpoint prefix to resume from.
        exit_code: 130 (SIGINT) or 143 (SIGTERM).
    """

    def __init__(self, message, prefix, exit_code):
        super().__init__(message)
        self.prefix = prefix
        self.exit_code = exit_code


class TrainingDiverged(RuntimeError):
    """A NaN/inf loss: the run stops; checkpoints written before it stay intact."""


class StopFlag:
    """Context manager installing the handlers; ``signum`` is set once a stop is asked."""

    def __init__(self):
        self.signum = None
        self._previous = {}

    @property
    def exit_code(self):
        return 128 + int(self.signum) if self.signum else 0

    def _handle(self, signum, frame):
        if self.signum is not None:  # second signal: give up on the graceful path
            raise KeyboardInterrupt
        self.signum = signum

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc):
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous.clear()
        return False
