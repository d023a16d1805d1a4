"""EMA of the weights (PaddleClas ``EMA: {decay}``, timm ``ModelEmaV2``), evaluated beside the model.

Not in any notebook; off unless the config has ``EMA.decay``. After every optimizer step

    ema[k] = decay * ema[k] + (1 - decay) * model[k]

for every floating-point entry of the state dict, BN running mean/variance included (timm's
ModelEmaV2 averages buffers the same way, so the EMA network's BN statistics follow its own
averaged weights' history); integer entries are copied. The EMA weights are evaluated every
epoch (``val_top1_ema`` ...), saved in checkpoints (``state["ema"]``) so a resume stays exact,
and can be the ``best_model`` (``Metric.best_by: val_top1_ema``).
"""
import contextlib

import numpy as np
import paddle


class ModelEMA:
    """Shadow copy of a model's state dict, averaged after each optimizer step.

    Args:
        model: the ``nn.Layer`` being trained.
        decay: EMA decay in [0, 1) (e.g. 0.9998 for ~5,000-step horizons).
    """

    def __init__(self, model, decay):
        self.decay = float(decay)
        self.shadow = {k: v.detach().clone() for k, v in model.state_dict().items()}

    @paddle.no_grad()
    def update(self, model):
        d = self.decay
        for k, v in model.state_dict().items():
            if paddle.is_floating_point(v):
                self.shadow[k] = d * self.shadow[k] + (1.0 - d) * v.detach()
            else:
                self.shadow[k] = v.detach().clone()

    @contextlib.contextmanager
    def applied(self, model):
        """Puts the EMA weights into ``model`` for the block, then restores the trained ones."""
        trained = {k: v.detach().clone() for k, v in model.state_dict().items()}
        model.set_state_dict(self.shadow)
        try:
            yield model
        finally:
            model.set_state_dict(trained)

    def state_dict(self):
        """numpy arrays, for a checkpoint's ``state``."""
        return {"decay": self.decay, "shadow": {k: v.numpy() for k, v in self.shadow.items()}}

    def set_state_dict(self, state):
        self.decay = float(state["decay"])
        self.shadow = {k: paddle.to_tensor(np.asarray(v)) for k, v in state["shadow"].items()}
