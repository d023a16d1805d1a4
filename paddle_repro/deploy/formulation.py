"""The formulation switch used while tracing a model for export.

CondConv's notebook formulation (``impl="grouped"``, what ``"auto"`` picks) folds the batch
into the conv groups, ``groups = groups * B``: a static program traced with an unknown batch
cannot express that, and one traced at a fixed batch only runs at that batch (Paddle issue
#37532). ``per_expert`` computes the same function (by linearity of the conv in its kernel,
tested to float rounding in tests/test_condconv.py) with ordinary convs whose shapes do not
depend on B, so the exported program runs at any batch size. ``bmm`` would also do; per_expert
is the one that needs no per-sample kernels.

ACmix (fast impl) and NAM (fast impl) need no switch: ACmix's masks depend on H, W only and
become constants of a program traced with known H, W; NAM's folded BN runs with
``training=False`` in eval mode, i.e. exactly the dygraph eval function.
"""
import contextlib

from paddle_repro.layers.condconv import CondConv2D

BATCH_FREE_CONDCONV = "per_expert"


@contextlib.contextmanager
def export_formulation(model):
    """Within the block every CondConv2D of ``model`` uses a batch-size-free formulation.

    Restores each layer's own ``impl`` on exit, so the dygraph model is left as it was.
    """
    saved = []
    for layer in model.sublayers(include_self=True):
        if isinstance(layer, CondConv2D) and layer.impl in ("auto", "grouped"):
            saved.append((layer, layer.impl))
            layer.impl = BATCH_FREE_CONDCONV
    try:
        yield model
    finally:
        for layer, impl in saved:
            layer.impl = impl
