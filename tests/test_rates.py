"""engine/rates.py: the log's train_ips / eta are window rates, not since-epoch-start averages."""
import time

from paddle_repro.engine import rates


def test_window_rate_ignores_a_slow_first_step(monkeypatch):
    clock = iter([0.0, 10.0, 11.0])  # start, after a 10 s first batch, one 1 s batch later
    monkeypatch.setattr(rates.time, "perf_counter", lambda: next(clock))
    r = rates.TrainRate()
    ips0, eta0 = r.update(0, 32, 101)
    assert ips0 == 3.2 and eta0 == 100 * 10.0
    ips, eta = r.update(1, 64, 101)
    assert ips == 32.0 and eta == 99 * 1.0  # the current speed, not 64 / 11 s


def test_resume_counts_only_trained_batches(monkeypatch):
    clock = iter([0.0, 2.0])
    monkeypatch.setattr(rates.time, "perf_counter", lambda: next(clock))
    r = rates.TrainRate(first_batch=50)  # batches 0-49 were skipped, not trained
    ips, eta = r.update(51, 64, 100)
    assert ips == 32.0 and eta == 48 * 1.0


def test_projection_is_printed_once_after_the_warm_up_batch(monkeypatch):
    """Issue 19: train.py says early how long the whole run will take."""
    from paddle_repro.engine import projection as proj
    clock = iter([10.0, 12.0])  # t0 after batch 0, then after batch 4: 0.5 s/batch
    monkeypatch.setattr(proj.time, "perf_counter", lambda: next(clock))
    p = proj.Projection(epochs_left=3, total=100, after=4)
    assert [p.update(i) for i in range(4)] == [None] * 4
    message = p.update(4)
    assert message == ("[Projection] 0.500 s/batch over batches 2-5, so one epoch of training "
                       "takes about 0:00:50; the rest of this run (95 batches of this epoch and "
                       "2 more epochs) takes about 0:02:28 (evaluation and checkpoints not "
                       "included)")
    clock = iter([10.0, 12.0])  # the last batch of the epoch: only the epochs to come are left
    last = proj.Projection(epochs_left=2, total=5, after=4)
    assert [last.update(i) for i in range(4)] == [None] * 4
    assert "the rest of this run (1 more epoch) takes about 0:00:02" in last.update(4)
    assert p.update(5) is None
    assert proj.Projection(epochs_left=1, total=1).update(0) is None  # nothing to time
