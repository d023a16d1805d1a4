"""The training log's ``train_ips`` and ``eta``: rates over the iterations since the last log
line, so they show the current speed and not an average dragged down by the first step
(``paddle.jit.to_static`` tracing, loader workers starting, first-touch allocations).

``train_ips`` is TRAINING images/s: forward, backward and optimizer step, data loading
included. It is not ``summary.json``'s ``throughput_img_s``, which is EVAL images/s (eval
mode, no backward, measured the notebooks' way at the end of a run) and is several times
higher for the same model: the two are different measures and must not be compared.
"""
import time


class TrainRate:
    """Window rate between log lines; ETA for the rest of the epoch from that rate."""

    def __init__(self, first_batch=0):
        """first_batch: the epoch's first trained batch (> 0 when resuming mid-epoch)."""
        self.t, self.seen, self.i = time.perf_counter(), 0, first_batch - 1

    def update(self, i, seen, total):
        """i: batch index just trained; seen: images trained this epoch so far; total:
        batches in the epoch. Returns (train images/s, seconds left in the epoch)."""
        now = time.perf_counter()
        dt = max(now - self.t, 1e-9)
        ips = (seen - self.seen) / dt
        per_batch = dt / max(i - self.i, 1)
        self.t, self.seen, self.i = now, seen, i
        return ips, (total - i - 1) * per_batch
