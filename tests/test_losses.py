"""Losses: the notebooks' label smoothing vs a hand formula; cross-entropy vs Paddle's."""
import numpy as np
import paddle
import pytest

from paddle_repro.builders.losses import build_loss, mixup_loss


def _log_softmax(x):
    x = x - x.max(axis=1, keepdims=True)
    return x - np.log(np.exp(x).sum(axis=1, keepdims=True))


LOGITS = np.array([[2.0, -1.0, 0.5], [0.1, 0.2, 3.0], [-2.0, 1.0, 1.0], [0.0, 0.0, 0.0]], "float32")
LABELS = np.array([0, 1, 2, 1], "int64")


def test_label_smoothing_matches_hand_formula():
    loss = build_loss({"name": "label_smoothing", "smoothing": 0.1})
    logp = _log_softmax(LOGITS.astype("float64"))
    nll = -logp[np.arange(4), LABELS]
    expected = np.mean(0.9 * nll + 0.1 * (-logp).mean(axis=1))
    got = float(loss(paddle.to_tensor(LOGITS), paddle.to_tensor(LABELS)))
    assert got == pytest.approx(expected, rel=1e-6)
    per = loss(paddle.to_tensor(LOGITS), paddle.to_tensor(LABELS), reduction="none").numpy()
    np.testing.assert_allclose(per, 0.9 * nll + 0.1 * (-logp).mean(axis=1), rtol=1e-6)


def test_label_smoothing_zero_is_cross_entropy():
    a = build_loss({"name": "label_smoothing", "smoothing": 0.0})
    b = build_loss({"name": "cross_entropy"})
    x, y = paddle.to_tensor(LOGITS), paddle.to_tensor(LABELS)
    ref = paddle.nn.CrossEntropyLoss()(x, y.reshape([-1, 1]))
    assert float(a(x, y)) == pytest.approx(float(ref), rel=1e-6)
    assert float(b(x, y)) == pytest.approx(float(ref), rel=1e-6)


def test_torch_cross_entropy_is_uncapped_where_paddles_stops_at_64():
    # A true class 100 and 1000 logits below the top one: log-probabilities -100 and -1000.
    logits = np.array([[0.0, 100.0, 2.0], [1000.0, 0.0, 1.0], [2.0, -1.0, 0.5]], "float32")
    labels = np.array([0, 1, 0], "int64")
    expected = -_log_softmax(logits.astype("float64"))[np.arange(3), labels]  # [100, 1000, 0.24]
    x, y = paddle.to_tensor(logits), paddle.to_tensor(labels)
    torch_like = build_loss({"name": "torch_cross_entropy"})
    np.testing.assert_allclose(torch_like(x, y, reduction="none").numpy(), expected, rtol=1e-6)
    assert float(torch_like(x, y)) == pytest.approx(expected.mean(), rel=1e-6)
    # Paddle's own cross-entropy (the Paddle notebooks' loss, kept as `cross_entropy`) caps
    # each sample at 64 on CPU; if a Paddle release drops the cap, this line says so.
    capped = build_loss({"name": "cross_entropy"})(x, y, reduction="none").numpy()
    np.testing.assert_allclose(capped, np.minimum(expected, 64.0), rtol=1e-6)


def test_torch_cross_entropy_gradient_is_softmax_minus_one_hot():
    rng = np.random.RandomState(0)
    logits = (rng.randn(6, 10) * 50).astype("float64")  # some samples far past the cap
    labels = rng.randint(0, 10, 6).astype("int64")
    x = paddle.to_tensor(logits, stop_gradient=False)
    build_loss({"name": "torch_cross_entropy"})(x, paddle.to_tensor(labels), reduction="sum").backward()
    p = np.exp(_log_softmax(logits))
    np.testing.assert_allclose(x.grad.numpy(), p - np.eye(10)[labels], atol=1e-12)


def test_mixup_loss_and_unknown_name():
    ce = build_loss({"name": "cross_entropy"})
    x, y = paddle.to_tensor(LOGITS), paddle.to_tensor(LABELS)
    y2 = paddle.to_tensor(LABELS[::-1].copy())
    got = float(mixup_loss(ce, x, y, y2, 0.3))
    assert got == pytest.approx(0.3 * float(ce(x, y)) + 0.7 * float(ce(x, y2)), rel=1e-6)
    with pytest.raises(ValueError, match="cross_entropy, label_smoothing"):
        build_loss({"name": "focal"})
