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
