"""``RandomApply`` of the batched pipeline: the NAM notebook's (003) ``RandomApply(transform, p)``.

Part of ``paddle_repro.data.batched``. It receives its inner op already compiled: the
transform table (``paddle_repro/data/transform_table.py``) marks ``transform`` as a nested
entry, which ``transform_entries.build_entry`` builds for the same pipeline first. So this
module needs no compiler (and the compiler no cycle back to it).
"""
import numpy as np

from .crop_first import is_pointwise


class RandomApply:
    """NAM notebook's ``RandomApply(transform, p)``: skip when ``p < random()``, i.e. apply
    with probability p.

    Args:
        transform: a compiled batched image op (``compiler.compile_op({Name: {kwargs}})``).
        p: probability of applying it.
    """

    def __init__(self, transform, p=0.5):
        self.op, self.p = transform, p
        self.pointwise = is_pointwise(self.op)  # skipping a pointwise op keeps it pointwise

    def sample(self, rng, hw):
        """Per image (applied?, inner params) for sizes ``hw`` [n, 2]; -> (params, out hw)."""
        on = rng.random(len(hw)) <= self.p
        inner, inner_hw = self.op.sample(rng, hw)
        return list(zip(on.tolist(), inner)), np.where(on[:, None], inner_hw, hw)

    def apply(self, img, p):
        return self.op.apply(img, p[1]) if p[0] else img

    def apply_batch(self, batch, params):
        """uint8 [n, h, w, c]: the inner op's ``apply_batch`` on the chosen images only."""
        inner = getattr(self.op, "apply_batch", None)
        if inner is None:
            return None
        chosen = [k for k, (on, _) in enumerate(params) if on]
        if not chosen:
            return batch
        part = batch[chosen]  # a copy, so a declining or resizing inner op leaves batch as is
        done = inner(part, [params[k][1] for k in chosen])
        if done is None or done.shape != part.shape:
            return None
        batch[chosen] = done
        return batch
