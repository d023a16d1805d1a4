"""Reused output memory for the batched loader.

Part of ``paddle_repro.data.batched``. A training batch of the CondConv recipe is 100 MB of
float32 (512 x 3 x 128 x 128). Allocating it fresh every step means mapping and zero-filling
new pages: on the Firecracker VMs we measure on, a first touch of 100 MB took ~90 ms against
~3.5 ms to rewrite memory already mapped, more than the transforms themselves. So each batch
is written into a buffer the loader keeps, once nothing uses the previous batch there.

How "nothing uses it" is known: the loader hands out a numpy *view* of a kept base array and
remembers only a weak reference to that view. Paddle's zero-copy tensor holds the view (and
autograd holds the tensor while it needs the input), so the base is reused only after the
view has died. No reference counts are read.

The pool holds as many buffers as were ever in flight at once (at most ``capacity``): for the
CondConv recipe with 2 workers that can be several hundred MB, kept for the loader's life.
It overlaps with ``paddle_repro/process.py`` (glibc keeping freed memory), which the tools
apply; the pool also works without it (``PADDLE_REPRO_KEEP_MEMORY=0``, no glibc, or the
loader used from a user's own script) and keeps a batch's memory out of the shared heap.
"""
import threading
import weakref

import numpy as np


class BufferPool:
    """Float32 batch arrays handed out again once the previous user is gone.

    Args:
        capacity: most base arrays kept (all shapes together); when every kept buffer is
            in use and the pool is full, ``get`` returns a plain new array.
    """

    def __init__(self, capacity):
        self.capacity = int(capacity)
        self._entries = []  # [base ndarray, weakref to the view in use or None]
        self._lock = threading.Lock()

    def get(self, shape, dtype=np.float32):
        """An uninitialised array of ``shape``: a view of a free kept buffer, or new."""
        shape, dtype = tuple(int(s) for s in shape), np.dtype(dtype)
        with self._lock:
            for entry in self._entries:
                base, in_use = entry
                if base.shape == shape and base.dtype == dtype and (in_use is None
                                                                    or in_use() is None):
                    return self._lend(entry)
            if len(self._entries) < self.capacity:
                entry = [np.empty(shape, dtype), None]
                self._entries.append(entry)
                return self._lend(entry)
        return np.empty(shape, dtype)

    @staticmethod
    def _lend(entry):
        view = entry[0].view()
        entry[1] = weakref.ref(view)
        return view

    def __len__(self):
        return len(self._entries)
