"""The live status line: runs queued / running / done / failed, with each running run's epoch."""
import sys
import time


class StatusLine:
    """Prints the jobs' status when it changes (in place on a terminal), at most every ``every`` s."""

    def __init__(self, jobs, log=print, every=2.0):
        self.jobs, self.log, self.every = jobs, log, every
        self._last, self._shown = "", 0.0

    def text(self):
        count = {s: sum(j.state == s for j in self.jobs) for s in ("queued", "running", "done", "failed")}
        running = ", ".join(f"{j.key} epoch {j.epochs_done()}/{j.cfg['Global']['epochs']}"
                            + (f" (attempt {j.attempts})" if j.attempts > 1 else "")
                            for j in self.jobs if j.state == "running")
        return (f"[reproduce] queued {count['queued']} | running {count['running']} | "
                f"done {count['done']} | failed {count['failed']}" + (f" | {running}" if running else ""))

    def update(self, force=False):
        now = time.monotonic()
        if not force and now - self._shown < self.every:
            return
        text = self.text()
        if text != self._last:
            if sys.stderr.isatty() and self.log is print:
                print("\r" + text.ljust(len(self._last)), end="", file=sys.stderr, flush=True)
            else:
                self.log(text)
            self._last, self._shown = text, now
