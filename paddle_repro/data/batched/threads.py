"""Ordered background batch building for the batched loader (``num_workers > 0``).

Part of ``paddle_repro.data.batched``. Threads rather than processes: cv2 and numpy release
the GIL for the pixel work, and threads share the decoded images without copies.
"""
import queue
import threading


def _threaded(fn, jobs, workers, depth):
    """Run ``fn(*job)`` in ``workers`` threads, at most ``depth`` results ahead; yield in
    order. Stopping the iteration early stops the threads; a worker error is re-raised."""
    results = [queue.Queue(maxsize=1) for _ in jobs]
    slots, stop = threading.Semaphore(max(depth, workers)), threading.Event()
    next_job, lock = iter(range(len(jobs))), threading.Lock()

    def work():
        while not stop.is_set():
            slots.acquire()
            with lock:
                k = next(next_job, None)
            if k is None or stop.is_set():
                slots.release()
                return
            try:
                results[k].put((True, fn(*jobs[k])))
            except BaseException as err:  # handed to the consumer, which re-raises it
                results[k].put((False, err))

    threads = [threading.Thread(target=work, daemon=True) for _ in range(workers)]
    for t in threads:
        t.start()
    try:
        for k in range(len(jobs)):
            ok, value = results[k].get()
            results[k] = None
            slots.release()
            if not ok:
                raise value
            yield value
    finally:
        stop.set()
        for _ in threads:
            slots.release()  # wake threads blocked on a slot so they see ``stop``
