"""The one log line that says how long the whole run will take, printed early.

After the first ``after`` trained batches of the first epoch this process trains (the very
first batch is left out: to_static tracing, loader start-up and first-touch allocations
make it slow), the measured seconds per batch give the rest of this epoch and of every
epoch still to come. Evaluation and checkpoints come on top (on CPU an eval pass costs
roughly a third of a training epoch over the same number of images); the docs page of each
reproduction gives measured whole-epoch times.
"""
import time


def _hms(seconds):
    seconds = int(round(seconds))
    return f"{seconds // 3600:d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


class Projection:
    """Projected training time of the rest of a run.

    Args:
        epochs_left: epochs this process will train, the current one included.
        total: batches per epoch.
        first_batch: the first batch trained in the current epoch (> 0 resuming mid-epoch).
        after: trained batches (beyond the first) to time before projecting.
    """

    def __init__(self, epochs_left, total, first_batch=0, after=20):
        self.epochs_left, self.total, self.first = epochs_left, total, first_batch
        self.after = min(after, total - first_batch - 1)
        self.t0 = None
        self.done = self.after < 1

    def update(self, i):
        """Call after batch ``i`` is trained; returns the message once, then None."""
        if self.done:
            return None
        if i == self.first:  # the clock starts after the warm-up batch
            self.t0 = time.perf_counter()
            return None
        if i - self.first < self.after:
            return None
        self.done = True
        per_batch = (time.perf_counter() - self.t0) / (i - self.first)
        batches_left = self.total - i - 1
        more = self.epochs_left - 1
        rest = per_batch * (batches_left + self.total * more)
        parts = ([f"{batches_left} batch{'es' if batches_left > 1 else ''} of this epoch"]
                 if batches_left else []) + ([f"{more} more epoch{'s' if more > 1 else ''}"]
                                             if more else [])
        todo = " and ".join(parts) or "nothing after this batch"
        return (f"[Projection] {per_batch:.3f} s/batch over batches {self.first + 2}-{i + 1}, so "
                f"one epoch of training takes about {_hms(per_batch * self.total)}; the rest of "
                f"this run ({todo}) takes about {_hms(rest)} (evaluation and checkpoints not "
                "included)")
