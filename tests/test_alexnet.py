"""AlexNet family: notebook state dicts load unchanged and give the notebooks' outputs."""
import importlib.util
import os

import numpy as np
import paddle
import pytest

from paddle_repro.models import build_model
from paddle_repro.models.alexnet import (AlexNet, alexnet, alexnet_acmix, alexnet_bn,
                                         alexnet_condconv)

HERE = os.path.dirname(__file__)


def _load(name):
    spec = importlib.util.spec_from_file_location(name, os.path.join(HERE, "reference", name + ".py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


nb = _load("notebook_condconv")


def _numel(model):
    return sum(int(np.prod(p.shape)) for p in model.parameters())


@pytest.mark.parametrize("builder, total", [
    (alexnet_condconv, 8_302_474), (alexnet_bn, 7_526_794), (alexnet, 7_524_042),
    (alexnet_acmix, 7_051_159),
])
def test_parameter_totals_equal_notebook_tables(builder, total):
    assert _numel(builder(num_classes=10)) == total


def _strict_load(ours, ref):
    """Loads ref's state dict into ours after checking keys and shapes are identical."""
    ref_sd, our_sd = ref.state_dict(), ours.state_dict()
    assert sorted(ref_sd) == sorted(our_sd), set(ref_sd) ^ set(our_sd)
    for k in ref_sd:
        assert list(ref_sd[k].shape) == list(our_sd[k].shape), k
    ours.set_state_dict(ref_sd)
    for k, v in ours.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), ref_sd[k].numpy(), err_msg=k)


def _assert_close(actual, desired, rel, what):
    """Max abs error relative to the tensor's scale: rounding in a deep net grows with it."""
    err = np.abs(actual - desired).max()
    scale = np.abs(desired).max()
    assert err <= rel * scale + 5e-5, f"{what}: max |diff| {err:.3g} > {rel} x max |ref| {scale:.3g}"


def _run(model, x, up, seed):
    x = paddle.to_tensor(x, stop_gradient=False)
    paddle.seed(seed)  # same dropout masks in both models
    y = model(x)
    (y * paddle.to_tensor(up)).sum().backward()
    grads = {n: p.grad.numpy() for n, p in model.named_parameters() if p.grad is not None}
    model.clear_gradients()
    return y.numpy(), x.grad.numpy(), grads


def _compare(ours, ref, batch=2, tol=5e-4):
    """Same outputs, input/param gradients (eval and train, same dropout) and BN statistics.

    ``tol`` is relative to each tensor's largest entry: float32 rounding differs between
    formulations and grows through ten layers (a scalar like ACmix's rate1 sums ~1e4 terms);
    a real mistake gives errors of order one. The 5e-5 floor covers gradients that are zero
    in exact arithmetic (a conv bias right before BatchNorm, ACmix's conv_p.bias) and so are
    pure rounding noise; the other gradients here are of order 1-100.
    """
    _strict_load(ours, ref)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch, 3, 128, 128)).astype("float32")
    up = rng.standard_normal((batch, 10)).astype("float32")
    for mode in ("eval", "train"):
        ref.train() if mode == "train" else ref.eval()
        ours.train() if mode == "train" else ours.eval()
        y_ref, gx_ref, g_ref = _run(ref, x, up, seed=7)
        y, gx, g = _run(ours, x, up, seed=7)
        _assert_close(y, y_ref, tol, f"{mode} logits")
        _assert_close(gx, gx_ref, tol, f"{mode} input grad")
        assert sorted(g) == sorted(g_ref)
        for k in g_ref:
            _assert_close(g[k], g_ref[k], tol, f"{mode} grad {k}")
    # train mode updated BN running statistics identically
    for k, v in ref.state_dict().items():
        _assert_close(ours.state_dict()[k].numpy(), v.numpy(), tol, k)


def test_alexnet_plain_equals_acmix_notebook_baseline():
    paddle.seed(0)
    _compare(alexnet(), nb.AlexNet_Plain())


def test_alexnet_bn_equals_condconv_notebook_baseline():
    paddle.seed(0)
    _compare(alexnet_bn(), nb.AlexNet_BN())


@pytest.mark.parametrize("impl", ["grouped", "bmm", "per_expert"])
def test_alexnet_condconv_equals_notebook(impl):
    """Also shows nn.BatchNorm (notebook) and nn.BatchNorm2D (ours) are numerically identical."""
    paddle.seed(0)
    _compare(alexnet_condconv(condconv_impl=impl), nb.AlexNet_CondConv())


@pytest.mark.parametrize("impl", ["fast", "notebook"])
def test_alexnet_acmix_equals_notebook(impl):
    ref_acmix = _load("notebook_acmix").ACmix
    paddle.seed(0)
    _compare(alexnet_acmix(acmix_impl=impl), nb.AlexNet_ACmix(ref_acmix))


def test_condconv_model_uses_requested_experts_and_impl():
    model = AlexNet(conv="condconv", norm=None, conv_options={"num_experts": 3, "impl": "per_expert"})
    layer = model.features[6]
    assert layer.num_experts == 3 and layer.impl == "per_expert"
    assert model(paddle.zeros([1, 3, 128, 128])).shape == [1, 10]


@pytest.mark.parametrize("call, err, match", [
    (lambda: AlexNet(conv="dynamic"), ValueError,
     r"AlexNet conv must be one of \[None, 'plain', 'condconv', 'acmix'\], got 'dynamic'.*register_conv"),
    (lambda: AlexNet(norm="gn"), ValueError, "unknown norm 'gn'"),
    (lambda: AlexNet(conv="condconv", conv_options={"num_expert": 4}), TypeError,
     "conv 'condconv': unknown argument.*'num_expert' .did you mean 'num_experts'.*Arch.conv_options"),
    (lambda: build_model("alexnet_condconv", num_expert=4), TypeError,
     "unknown argument.*'num_expert' .did you mean 'num_experts'"),
    (lambda: build_model("alexnet", num_experts=4), TypeError,
     "alexnet: unknown argument.*num_experts'; valid: num_classes, conv, conv_options, dropout"),
    (lambda: build_model("alexnet_condconv", conv="acmix"), TypeError, "unknown argument.*conv"),
])
def test_bad_arguments_raise_clear_errors(call, err, match):
    with pytest.raises(err, match=match):
        call()
