"""evaluate(): loss, top-1, top-k and per-class accuracy equal a hand computation."""
import numpy as np
import paddle
import pytest

from paddle_repro.engine.evaluate import evaluate, loader_throughput, model_throughput
from paddle_repro.builders.losses import build_loss

RNG = np.random.RandomState(0)
K = 6
LOGITS = RNG.randn(7, K).astype("float32")
LABELS = np.array([0, 1, 2, 3, 0, 5, 5], "int64")  # class 4 has no image
LOGITS[0, 0] += 5  # make sample 0 surely right, sample 1 surely wrong
LOGITS[1, 1] -= 5


class _Items(paddle.io.Dataset):
    def __len__(self):
        return len(LABELS)

    def __getitem__(self, i):  # the "image" is the logits, shaped [C=1, H=1, W=K]
        return LOGITS[i].reshape(1, 1, K), LABELS[i]


class _Flatten(paddle.nn.Layer):
    def forward(self, x):
        return x.reshape([x.shape[0], -1])


def _hand(topk):
    x = LOGITS.astype("float64")
    logp = x - x.max(1, keepdims=True)
    logp -= np.log(np.exp(logp).sum(1, keepdims=True))
    nll = -logp[np.arange(7), LABELS]
    order = np.argsort(-x, axis=1)
    hit1 = order[:, 0] == LABELS
    hitk = (order[:, :topk] == LABELS[:, None]).any(1)
    per_class = [hit1[LABELS == c].mean() if (LABELS == c).any() else None for c in range(K)]
    return nll.mean(), hit1.mean(), hitk.mean(), per_class


@pytest.mark.parametrize("topk", [2, 5])
def test_evaluate_equals_hand_computation(topk):
    # batch 3 over 7 images: a short last batch must be weighted by its size, not as a batch.
    loader = paddle.io.DataLoader(_Items(), batch_size=3, shuffle=False)
    res = evaluate(_Flatten(), loader, build_loss({"name": "cross_entropy"}), K, topk=topk)
    loss, top1, topk_acc, per_class = _hand(topk)
    assert res["n"] == 7
    assert res["loss"] == pytest.approx(loss, rel=1e-6)
    assert res["top1"] == pytest.approx(top1) and res["top5"] == pytest.approx(topk_acc)
    assert res["per_class_acc"][4] is None
    assert res["per_class_acc"] == pytest.approx(per_class)


def test_evaluate_restores_train_mode_and_throughputs_are_positive():
    model = paddle.nn.Sequential(_Flatten(), paddle.nn.Dropout(0.5))
    model.train()
    loader = paddle.io.DataLoader(_Items(), batch_size=4)
    evaluate(model, loader, build_loss({"name": "label_smoothing"}), K)
    assert model.training
    assert loader_throughput(model, loader) > 0 and model_throughput(model, loader) > 0
