"""Graceful stop on Ctrl-C / SIGTERM: finish the current step, save ``latest``, exit.

The first SIGINT/SIGTERM only sets a flag that the training loop checks after every
optimizer step; a second one restores the default handler behaviour (immediate
``KeyboardInterrupt``) for a user who really wants out. The exit codes follow the shell
convention 128 + signal number: 130 for SIGINT, 143 for SIGTERM.

A stop never waits forever: if the loop has not reached its next optimizer step
``grace_s`` seconds after the first signal (a loader blocked on a dead worker, a step stuck
in a library call), a watchdog ends the process with the same exit code and says so; the
checkpoints written before are intact. ``PADDLE_REPRO_STOP_GRACE_S`` sets the grace
(default 120 s, long enough for one slow CPU step of the largest recipe).
"""
import os
import signal
import sys
import threading

GRACE_ENV = "PADDLE_REPRO_STOP_GRACE_S"
DEFAULT_GRACE_S = 120.0


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

    def __init__(self, grace_s=None):
        self.signum = None
        self._previous = {}
        self.grace_s = float(os.environ.get(GRACE_ENV, DEFAULT_GRACE_S)) if grace_s is None else grace_s
        self._watchdog = None
        self._pid = os.getpid()

    @property
    def exit_code(self):
        return 128 + int(self.signum) if self.signum else 0

    def _handle(self, signum, frame):
        if os.getpid() != self._pid:
            # a forked loader worker inherits the handler, and Ctrl-C reaches the whole process
            # group: only the trainer announces and handles the stop (it then ends the workers)
            return
        if self.signum is not None:  # second signal: give up on the graceful path
            raise KeyboardInterrupt
        self.signum = signum
        print(f"Signal {signum}: stopping after the current step and saving `latest` (again to "
              f"stop at once; at most {self.grace_s:.0f} s).", file=sys.stderr, flush=True)
        self._watchdog = threading.Timer(self.grace_s, self._give_up)
        self._watchdog.daemon = True
        self._watchdog.start()

    def _give_up(self):
        print(f"No clean stop point within {self.grace_s:.0f} s of the signal: exiting without "
              "saving; the checkpoints written before are intact.", file=sys.stderr, flush=True)
        os._exit(self.exit_code)  # from a thread: the main thread may be blocked in C code

    def __enter__(self):
        self._pid = os.getpid()
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc):
        if self._watchdog is not None:  # the stop was reached (or the run ended): no force
            self._watchdog.cancel()
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous.clear()
        return False
