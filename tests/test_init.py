"""``Arch.init``: the PyTorch default init (notebook 004) against its formulas, no torch needed."""
import math

import numpy as np
import paddle
import paddle.nn as nn
import pytest

from paddle_repro.config import load_config
from paddle_repro.models import ModelArgumentError, build_model
from paddle_repro.models.init import torch_default_init, torch_fan_in


def _convs_and_linears(model):
    return [m for m in model.sublayers() if isinstance(m, (nn.Conv2D, nn.Linear))]


def test_fan_in_divides_by_groups_and_reads_paddle_linear_layout():
    assert torch_fan_in(nn.Conv2D(24, 24, 3, groups=24)) == 9
    assert torch_fan_in(nn.Conv2D(24, 48, 1)) == 24
    assert torch_fan_in(nn.Conv2D(6, 12, 5, groups=2)) == 3 * 25
    assert torch_fan_in(nn.Linear(1024, 10)) == 1024  # Paddle weight is [in, out]


@pytest.mark.parametrize("layer", [nn.Conv2D(24, 24, 3, groups=24), nn.Conv2D(24, 24, 1),
                                   nn.Conv2D(3, 64, 3, bias_attr=True), nn.Linear(512, 100)],
                         ids=["dw3x3", "pw1x1", "conv_bias", "linear"])
def test_torch_default_is_uniform_one_over_sqrt_fan_in(layer):
    paddle.seed(0)
    # Many copies of one layer: enough draws to check the uniform's bound and its std.
    draws_w, draws_b = [], []
    for _ in range(200 if layer.weight.size < 5000 else 20):
        torch_default_init(layer)
        draws_w.append(layer.weight.numpy().ravel())
        if layer.bias is not None:
            draws_b.append(layer.bias.numpy().ravel())
    bound = 1.0 / math.sqrt(torch_fan_in(layer))
    w = np.concatenate(draws_w)
    assert np.abs(w).max() <= bound + 1e-7
    assert np.abs(w).max() > 0.98 * bound  # fills the interval, not a narrower one
    np.testing.assert_allclose(w.std(), bound / math.sqrt(3), rtol=0.03)
    assert abs(w.mean()) < 0.02 * bound
    if draws_b:
        b = np.concatenate(draws_b)
        assert np.abs(b).max() <= bound + 1e-7 and b.std() > 0.8 * bound / math.sqrt(3)


def test_paddle_default_differs_as_the_issue_measured():
    """Paddle's conv init: Normal(0, sqrt(2/fan_in)), fan_in NOT divided by groups."""
    paddle.seed(0)
    dw = nn.Conv2D(24, 24, 3, groups=24)
    np.testing.assert_allclose(dw.weight.numpy().std(), math.sqrt(2 / (24 * 9)), rtol=0.15)
    torch_default_init(dw)
    np.testing.assert_allclose(dw.weight.numpy().std(), (1 / 3) / math.sqrt(3), rtol=0.15)


def test_bn_keeps_one_and_zero_and_whole_model_is_seeded():
    paddle.seed(7)
    a = build_model("shufflenetv2_x0_5", init="torch_default")
    paddle.seed(7)
    b = build_model("shufflenetv2_x0_5", init="torch_default")
    for (name, pa), pb in zip(a.state_dict().items(), b.state_dict().values()):
        np.testing.assert_array_equal(pa.numpy(), pb.numpy(), err_msg=name)
    for m in a.sublayers():
        if isinstance(m, nn.BatchNorm2D):
            assert np.all(m.weight.numpy() == 1) and np.all(m.bias.numpy() == 0)
    for m in _convs_and_linears(a):
        bound = 1.0 / math.sqrt(torch_fan_in(m))
        assert np.abs(m.weight.numpy()).max() <= bound + 1e-7
    assert a.linear.bias is not None and np.abs(a.linear.bias.numpy()).max() > 0  # not Paddle's zeros


@pytest.mark.parametrize("name", ["alexnet_condconv", "alexnet_acmix", "resnet18_nam"])
def test_any_model_takes_the_init(name):
    paddle.seed(0)
    model = build_model(name, init="torch_default", num_classes=10)
    for m in _convs_and_linears(model):
        assert np.abs(m.weight.numpy()).max() <= 1.0 / math.sqrt(torch_fan_in(m)) + 1e-7


def test_unknown_init_is_a_clear_error():
    with pytest.raises(ModelArgumentError, match="torch_default"):
        build_model("alexnet", init="torch")


def test_shufflenet_configs_default_to_torch_init_and_paddle_configs_do_not():
    for width in ("x0_5", "x1_0", "x1_5", "x2_0"):
        assert load_config(f"configs/shufflenetv2/{width}.yaml")["Arch"]["init"] == "torch_default"
    for path in ("configs/condconv/alexnet_condconv.yaml", "configs/acmix/alexnet_acmix.yaml",
                 "configs/nam/resnet50_nam.yaml"):
        assert load_config(path)["Arch"].get("init", "paddle_default") == "paddle_default"
