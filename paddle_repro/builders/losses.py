"""Loss functions: plain cross-entropy (Paddle's and PyTorch's) and the notebooks'
label-smoothing cross-entropy; ``LOSS`` is the ``Loss`` section (``name`` + the chosen
entry's keys: ``smoothing`` belongs to ``label_smoothing`` alone).

``label_smoothing`` is the class the CondConv (000) and ACmix (002) notebooks wrote:
``(1 - s) * NLL(p, y) + s * mean_k(-log p_k)``, averaged over the batch. This equals the
"uniform over all K classes" smoothing (the true class also receives s/K), not the
"over the K-1 wrong classes" variant. Every loss here takes ``reduction`` so evaluation can
sum per-sample losses (needed to avoid double counting padded samples under data
parallel); the default ``"mean"`` is what the notebooks trained with.

Paddle's ``F.cross_entropy`` and ``F.log_softmax`` cap every log-probability at -64 on CPU
(Paddle 2.6 and 3.x), so one sample's loss is never above 64; PyTorch's
``nn.CrossEntropyLoss`` has no cap. The gradients agree (softmax - one-hot either way); the
loss *values* differ once a sample's true class gets log-probability below -64, which
notebook 004's Adam at lr 0.1 reaches in its first steps and in its test-loss spikes (its log
shows a test loss of 183,250). ``torch_cross_entropy`` computes ``log_softmax`` as
``logits - logsumexp(logits)``, uncapped, as PyTorch does (tests/test_losses.py,
tests/test_loop_equivalence_004.py).
"""
import paddle
import paddle.nn as nn
import paddle.nn.functional as F

from ..config_fields import NUM, Choice, Entry, Field


def _reduce(per_sample, reduction):
    if reduction == "none":
        return per_sample
    if reduction == "sum":
        return per_sample.sum()
    return per_sample.mean()


class CrossEntropy(nn.Layer):
    """Softmax cross-entropy on logits (``paddle.nn.CrossEntropyLoss``'s default; each
    sample's loss capped at 64 on CPU, see the module docstring)."""

    def forward(self, logits, labels, reduction="mean"):
        """Args: logits [N, K] float, labels [N] or [N, 1] int64. Returns a scalar
        (or [N] with ``reduction="none"``)."""
        labels = labels.reshape([-1, 1])
        per_sample = F.cross_entropy(logits, labels, reduction="none").reshape([-1])
        return _reduce(per_sample, reduction)


class TorchCrossEntropy(nn.Layer):
    """PyTorch's ``nn.CrossEntropyLoss()``: NLL of ``log_softmax`` with no cap (notebook 004)."""

    def forward(self, logits, labels, reduction="mean"):
        """Args: logits [N, K] float, labels [N] or [N, 1] int64. Returns a scalar
        (or [N] with ``reduction="none"``)."""
        log_probs = logits - paddle.logsumexp(logits, axis=-1, keepdim=True)  # [N, K], uncapped
        labels = labels.reshape([-1, 1]).astype("int64")
        per_sample = -paddle.take_along_axis(log_probs, labels, axis=1).reshape([-1])
        return _reduce(per_sample, reduction)


class LabelSmoothingCrossEntropy(nn.Layer):
    """The notebooks' ``LabelSmoothingCrossEntropy`` (seed 000 section 2.3).

    Args:
        smoothing: s in ``(1 - s) * NLL + s * mean(-log p)``; the notebooks used 0.1.
    """

    def __init__(self, smoothing=0.1):
        super().__init__()
        if not 0.0 <= smoothing < 1.0:
            raise ValueError(f"Loss.smoothing must be in [0, 1), got {smoothing}.")
        self.smoothing = float(smoothing)

    def forward(self, logits, labels, reduction="mean"):
        """Args: logits [N, K] float, labels [N] or [N, 1] int64. Returns a scalar
        (or [N] with ``reduction="none"``)."""
        log_probs = F.log_softmax(logits, axis=-1)
        labels = labels.reshape([-1, 1]).astype("int64")
        nll = -paddle.take_along_axis(log_probs, labels, axis=1).reshape([-1])
        smooth = -log_probs.mean(axis=-1)
        per_sample = (1.0 - self.smoothing) * nll + self.smoothing * smooth
        return _reduce(per_sample, reduction)


def _smoothing_check(section):
    if not 0.0 <= section["smoothing"] < 1.0:
        return [("smoothing", f"must be in [0, 1), got {section['smoothing']}.")]
    return []


LOSSES = {
    "cross_entropy": Entry(lambda cfg: CrossEntropy(), doc="Paddle's cross_entropy (capped at 64)"),
    "label_smoothing": Entry(lambda cfg: LabelSmoothingCrossEntropy(cfg["smoothing"]), {
        "smoothing": Field(NUM, 0.1, "(1-s)*NLL + s*mean(-log p) (notebooks' form)."),
    }, _smoothing_check, "the notebooks' LabelSmoothingCrossEntropy"),
    "torch_cross_entropy": Entry(lambda cfg: TorchCrossEntropy(),
                                 doc="PyTorch's nn.CrossEntropyLoss (uncapped)"),
}
LOSS = Choice("Loss", LOSSES, "cross_entropy")  # the Loss section: name + the entry's keys


def build_loss(loss_cfg):
    """Builds the loss named by ``loss_cfg["name"]``.

    Args:
        loss_cfg: the ``Loss`` config section (a partial dict gets the defaults), e.g. ``{"name": "label_smoothing",
            "smoothing": 0.1}``.

    Returns:
        An ``nn.Layer`` called as ``loss(logits [N, K], labels [N]) -> scalar``.
    """
    loss_cfg = LOSS.fill(loss_cfg)
    name = loss_cfg["name"]
    if name not in LOSSES:
        raise ValueError(f"Unknown Loss.name {name!r}; valid names: {', '.join(LOSSES)}.")
    return LOSSES[name].build(loss_cfg)


def mixup_loss(loss_fn, logits, labels_a, labels_b, lam):
    """Batch-mixup loss ``lam * L(y_a) + (1 - lam) * L(y_b)`` (Zhang et al., arXiv:1710.09412)."""
    return lam * loss_fn(logits, labels_a) + (1.0 - lam) * loss_fn(logits, labels_b)
