"""ShuffleNetV2's fast data movement (``impl="fast"``) computes exactly the notebook's numbers:
outputs, input gradients and every parameter gradient, unit by unit and for the whole model,
in dygraph and under ``paddle.jit.to_static``."""
import numpy as np
import paddle
import pytest

from paddle_repro.layers.shuffle import (ShuffleBasicUnit, ShuffleDownUnit, channel_shuffle,
                                         concat_shuffle)
from paddle_repro.models.shufflenet_v2 import ShuffleNetV2
from tests.helpers import input_tensor, randomize_bns


def test_concat_shuffle_equals_concat_then_shuffle():
    a, b = input_tensor((2, 5, 3, 4), seed=1), input_tensor((2, 5, 3, 4), seed=2)
    expected = channel_shuffle(paddle.concat([a, b], axis=1), 2)
    np.testing.assert_array_equal(concat_shuffle(a, b).numpy(), expected.numpy())


def _pair(make):
    """The same module twice, fast and notebook, with equal (randomised) weights."""
    paddle.seed(0)
    nb = make("notebook")
    randomize_bns(nb, 1)
    fast = make("fast")
    fast.set_state_dict(nb.state_dict())
    return nb, fast


def _forward_backward(model, shape, train):
    model.train() if train else model.eval()
    x = input_tensor(shape, seed=4)
    y = model(x)
    g = paddle.to_tensor(np.random.RandomState(3).randn(*y.shape).astype("float32"))
    (y * g).sum().backward()
    grads = {n: p.grad.numpy() for n, p in model.named_parameters() if p.grad is not None}
    return y.numpy(), x.grad.numpy(), grads


def _assert_same(nb, fast, shape, train, rtol=0.0, atol=0.0):
    y_n, gx_n, gp_n = _forward_backward(nb, shape, train)
    y_f, gx_f, gp_f = _forward_backward(fast, shape, train)
    np.testing.assert_allclose(y_f, y_n, rtol=rtol, atol=atol)
    np.testing.assert_allclose(gx_f, gx_n, rtol=rtol, atol=atol)
    assert gp_f.keys() == gp_n.keys() and gp_n
    for name in gp_n:
        np.testing.assert_allclose(gp_f[name], gp_n[name], rtol=rtol, atol=atol, err_msg=name)


@pytest.mark.parametrize("train", [False, True])
@pytest.mark.parametrize("kind", ["basic", "down"])
def test_units_fast_equals_notebook_exactly(kind, train):
    make, shape = {
        "basic": (lambda impl: ShuffleBasicUnit(8, impl=impl), (2, 8, 6, 6)),
        "down": (lambda impl: ShuffleDownUnit(6, 12, impl=impl), (2, 6, 7, 7)),
    }[kind]
    _assert_same(*_pair(make), shape, train)  # pure data movement: bit-identical


@pytest.mark.parametrize("train", [False, True])
def test_whole_model_fast_equals_notebook_exactly(train):
    nb, fast = _pair(lambda impl: ShuffleNetV2(0.5, num_classes=10, impl=impl))
    _assert_same(nb, fast, (4, 3, 32, 32), train)


def test_whole_model_fast_to_static_matches_notebook_dygraph():
    nb, fast = _pair(lambda impl: ShuffleNetV2(0.5, num_classes=10, impl=impl))
    static = paddle.jit.to_static(fast)
    y_n, gx_n, gp_n = _forward_backward(nb, (4, 3, 32, 32), True)
    fast.train()
    x = input_tensor((4, 3, 32, 32), seed=4)
    y = static(x)
    g = paddle.to_tensor(np.random.RandomState(3).randn(*y.shape).astype("float32"))
    (y * g).sum().backward()
    np.testing.assert_allclose(y.numpy(), y_n, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(x.grad.numpy(), gx_n, rtol=1e-4, atol=1e-6)
    for name, p in fast.named_parameters():
        if p.grad is not None:
            np.testing.assert_allclose(p.grad.numpy(), gp_n[name], rtol=1e-4, atol=1e-5,
                                       err_msg=name)


def test_unknown_impl_is_refused():
    with pytest.raises(ValueError, match="fast"):
        ShuffleBasicUnit(8, impl="turbo")
