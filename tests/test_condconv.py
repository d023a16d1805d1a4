"""CondConv2D: every impl equals the notebook's code (forward, train/eval, all gradients)."""
import importlib.util
import os

import numpy as np
import paddle
import pytest

from paddle_repro.layers.condconv import IMPLS, CondConv2D


def _load_reference():
    path = os.path.join(os.path.dirname(__file__), "reference", "notebook_condconv.py")
    spec = importlib.util.spec_from_file_location("notebook_condconv", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


nb = _load_reference()

# (constructor kwargs, batch, H, W): stride 2, groups 2, dilation, bias off, batch 1 and 3.
CONFIGS = [
    (dict(kernel_size=3, padding=1), 3, 9, 9),
    (dict(kernel_size=3, stride=2, padding=1), 3, 9, 8),
    (dict(kernel_size=3, padding=1, groups=2), 3, 7, 7),
    (dict(kernel_size=3, padding=2, dilation=2), 1, 9, 9),
    (dict(kernel_size=1, bias_attr=False), 3, 5, 5),
    (dict(kernel_size=3, stride=2, padding=0, groups=2, bias_attr=False), 1, 8, 8),
]
IN, OUT, E = 4, 6, 3


def _pair_of_layers(kwargs, impl):
    paddle.seed(1)
    ref = nb.CondConv2D(IN, OUT, num_experts=E, **kwargs)
    ours = CondConv2D(IN, OUT, num_experts=E, impl=impl, **kwargs)
    ours.set_state_dict(ref.state_dict())
    return ref, ours


def _forward_backward(layer, x_np, upstream_np):
    x = paddle.to_tensor(x_np, stop_gradient=False)
    y = layer(x)
    (y * paddle.to_tensor(upstream_np)).sum().backward()
    grads = {n: p.grad.numpy() for n, p in layer.named_parameters()}
    return y.numpy(), x.grad.numpy(), grads


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("cfg", CONFIGS, ids=["plain", "stride2", "groups2", "dilation2-b1",
                                              "k1-nobias", "s2-g2-nobias-b1"])
def test_impl_matches_notebook_forward_and_gradients(impl, cfg):
    kwargs, b, h, w = cfg
    ref, ours = _pair_of_layers(kwargs, impl)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((b, IN, h, w)).astype("float32")
    for mode in ("train", "eval"):
        getattr(ref, mode)()
        getattr(ours, mode)()
        with paddle.no_grad():
            out_shape = ref(paddle.to_tensor(x)).shape
        up = rng.standard_normal(out_shape).astype("float32")
        y_ref, gx_ref, g_ref = _forward_backward(ref, x, up)
        ref.clear_gradients()
        y, gx, g = _forward_backward(ours, x, up)
        ours.clear_gradients()
        assert y.shape == y_ref.shape
        np.testing.assert_allclose(y, y_ref, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(gx, gx_ref, rtol=1e-4, atol=1e-4)
        assert sorted(g) == sorted(g_ref)
        for name in g_ref:
            np.testing.assert_allclose(g[name], g_ref[name], rtol=1e-4, atol=1e-4, err_msg=name)


def test_routing_changes_output_per_sample():
    """Guards against a broken mix: two different samples must not share one kernel."""
    paddle.seed(3)
    layer = CondConv2D(IN, OUT, 3, padding=1, num_experts=E)
    x = paddle.randn([2, IN, 5, 5])
    attn = layer.routing(x).numpy()
    assert attn.shape == (2, E) and not np.allclose(attn[0], attn[1])
    both = layer(x).numpy()
    # Sample 1 alone gives the same result as inside the batch: no cross-sample mixing.
    np.testing.assert_allclose(layer(x[1:]).numpy()[0], both[1], rtol=1e-5, atol=1e-5)


def test_parameter_names_and_shapes_match_notebook():
    ref = nb.CondConv2D(8, 6, 3, groups=2, num_experts=2)
    ours = CondConv2D(8, 6, 3, groups=2, num_experts=2)
    assert {k: v.shape for k, v in ref.state_dict().items()} == \
        {k: v.shape for k, v in ours.state_dict().items()}
    assert ours.weight.shape == [2, 6, 4, 3, 3] and ours.bias.shape == [2, 6]
    assert ours.routing.net.weight.shape == [2, 8, 1, 1]


def test_explainer_per_sample_loop_equals_notebook():
    """001's per-sample loop is the same function given equivalent weights.

    001 routes with dropout + Linear(with bias) and uses one shared conv bias, so we
    set dropout 0, the Linear weight to the notebook's 1x1 conv weight, its bias 0 and
    compare without conv bias (with a bias the two layers differ by design).
    """
    paddle.seed(2)
    ref = nb.CondConv2D(IN, OUT, 3, padding=1, stride=2, bias_attr=False, num_experts=E)
    ex = nb.ExplainerCondConv2D(IN, OUT, 3, padding=1, stride=2, bias=False, num_experts=E,
                                dropout_rate=0.0)
    ex.weight.set_value(ref.weight)
    ex._routing_fn.fc.weight.set_value(ref.routing.net.weight.reshape([E, IN]).T)
    ex._routing_fn.fc.bias.set_value(paddle.zeros([E]))
    x = np.random.default_rng(1).standard_normal((3, IN, 7, 7)).astype("float32")
    ours = CondConv2D(IN, OUT, 3, padding=1, stride=2, bias_attr=False, num_experts=E)
    ours.set_state_dict(ref.state_dict())
    y_ex, gx_ex, g_ex = _forward_backward(ex, x, np.ones(1, "float32"))
    y, gx, g = _forward_backward(ours, x, np.ones(1, "float32"))
    np.testing.assert_allclose(y, y_ex, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(gx, gx_ex, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(g["weight"], g_ex["weight"], rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("kwargs, match", [
    (dict(impl="fast"), "unknown impl 'fast'; valid: auto, grouped, bmm, per_expert"),
    (dict(groups=3), "groups=3 must divide"),
    (dict(num_experts=0), "num_experts must be >= 1"),
    (dict(stride=(1, 2, 3)), "stride must be an int or a pair"),
])
def test_bad_arguments_raise_clear_errors(kwargs, match):
    args = dict(inplanes=4, outplanes=6, kernel_size=3)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match.replace("(", r"\(")):
        CondConv2D(**args)


def test_wrong_input_channels_raise_clear_error():
    with pytest.raises(ValueError, match=r"expects \[B, 4, H, W\], got \[1, 5, 6, 6\]"):
        CondConv2D(4, 6, 3)(paddle.zeros([1, 5, 6, 6]))


def test_auto_runs_the_notebooks_grouped_conv_in_training_and_inference(monkeypatch):
    layer = CondConv2D(IN, OUT, 3, padding=1, num_experts=E)  # impl="auto"
    used = []
    for impl in ("bmm", "grouped", "per_expert"):
        original = getattr(layer, "_forward_" + impl)
        monkeypatch.setattr(layer, "_forward_" + impl,
                            lambda x, a, _i=impl, _f=original: used.append(_i) or _f(x, a))
    x = paddle.randn([2, IN, 5, 5])
    with paddle.no_grad():
        layer(x)
    layer(x)  # parameters are trainable: gradients needed
    assert used == ["grouped", "grouped"]


def test_init_reproduces_notebook_kaiming_quirk():
    """KaimingNormal on 5-D / 2-D shapes: std sqrt(2/(out*in*k*k)) and sqrt(2/E) (docstring)."""
    paddle.seed(0)
    layer = CondConv2D(64, 96, 3, num_experts=2)
    np.testing.assert_allclose(float(layer.weight.std()), (2 / (96 * 64 * 9)) ** 0.5, rtol=0.05)
    np.testing.assert_allclose(float(layer.bias.std()), 1.0, rtol=0.2)
