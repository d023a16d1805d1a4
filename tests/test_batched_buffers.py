"""The batched loader's reused output memory (``paddle_repro/data/batched/buffers.py``): a
buffer is written again only after every array and tensor over it is gone."""
import gc

import numpy as np
import paddle

from paddle_repro.data.batched.loader import BatchedLoader
from paddle_repro.data.batched.buffers import BufferPool
from paddle_repro.data.batched.loader import _to_paddle

SHAPE = (4, 3, 8, 8)


def base_of(view):
    return view.base if view.base is not None else view


def test_a_buffer_comes_back_only_after_its_view_is_gone():
    pool = BufferPool(capacity=2)
    a = pool.get(SHAPE)
    b = pool.get(SHAPE)
    assert base_of(a) is not base_of(b)  # a is still alive: a second buffer
    first = base_of(a)
    del a
    gc.collect()
    assert base_of(pool.get(SHAPE)) is first  # the view died: its buffer again
    assert base_of(pool.get((2, 3, 8, 8))) is not first  # another shape, full pool: new array
    assert len(pool) == 2


def test_a_paddle_tensor_over_the_view_keeps_the_buffer_busy():
    pool = BufferPool(capacity=1)
    view = pool.get(SHAPE)
    view[...] = 1.0
    held = _to_paddle(view).reshape([4, -1])  # a derived tensor over the same memory
    del view
    gc.collect()
    other = pool.get(SHAPE)
    other[...] = 2.0  # must be other memory: the tensor still reads 1.0
    assert float(held.sum()) == held.size
    del held
    gc.collect()
    assert base_of(pool.get(SHAPE)) is not base_of(other)  # other is alive; pool of one
    del other
    gc.collect()
    model = paddle.nn.Conv2D(3, 2, 3)  # autograd keeps the input until backward
    view = pool.get(SHAPE)
    kept = base_of(view)
    out = model(_to_paddle(view))
    del view
    gc.collect()
    assert base_of(pool.get(SHAPE)) is not kept
    out.mean().backward()
    del out
    gc.collect()
    assert base_of(pool.get(SHAPE)) is kept


def test_loader_batches_held_by_the_caller_are_never_overwritten():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (23, 32, 32, 3), dtype=np.uint8)
    spec = [{"RandomCrop": {"size": 28, "padding": 2}}, {"RandomHorizontalFlip": {"prob": 0.5}},
            {"ToTensor": None}]
    for workers in (0, 2):
        loader = BatchedLoader(images, np.arange(23) % 10, spec, batch_size=4, shuffle=True,
                                 seed=1, num_workers=workers)
        held = [x for x, _ in loader]  # every batch kept: the pool must not reuse any
        order = loader.indices(0)
        for b, x in enumerate(held):
            want, _ = loader.batch_numpy(order[4 * b:4 * b + 4], 0, b)
            np.testing.assert_array_equal(x.numpy(), want)
        streamed = [x.numpy() for x, _ in loader]  # epoch 1, buffers reused as they free
        assert len(loader._buffers) <= loader._buffers.capacity
        for b, x in enumerate(streamed):
            want, _ = loader.batch_numpy(loader.indices(1)[4 * b:4 * b + 4], 1, b)
            np.testing.assert_array_equal(x, want)
