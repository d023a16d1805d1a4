"""NAM layer: equals the notebook's Channel_Att (outputs, gradients, BN state), pixel branch,
sparsity penalty."""
import numpy as np
import paddle
import pytest

from paddle_repro.layers.nam import NAM, collect_sparsity_loss
from tests.reference.notebook_resnet_nam import Att

C, H, W = 6, 4, 5


def _randomize_bn(bn, seed):
    # Non-trivial γ (some negative: |γ| matters), β and running stats, so eval mode is tested
    # on more than the identity-initialised BN.
    rng = np.random.RandomState(seed)
    n = bn.weight.shape[0]
    bn.weight.set_value(rng.randn(n).astype("float32"))
    bn.bias.set_value(rng.randn(n).astype("float32"))
    bn._mean.set_value(rng.randn(n).astype("float32"))
    bn._variance.set_value(rng.rand(n).astype("float32") + 0.5)


def _pair(impl):
    ref = Att(C)
    _randomize_bn(ref.Channel_Att.bn2, 0)
    ours = NAM(C, impl=impl)
    ours.bn_channel.set_state_dict(ref.Channel_Att.bn2.state_dict())
    return ref, ours


def _input(seed=1, shape=(3, C, H, W)):
    x = paddle.to_tensor(np.random.RandomState(seed).randn(*shape).astype("float32"))
    x.stop_gradient = False
    return x


@pytest.mark.parametrize("impl", ["fast", "notebook"])
@pytest.mark.parametrize("train", [False, True])
def test_matches_notebook_outputs_grads_and_bn_state(impl, train):
    ref, ours = _pair(impl)
    # "notebook" runs the notebook's ops in its order: equal to the last bit (what makes a
    # training run with it bit-identical, tests/test_loop_equivalence.py); "fast" folds the
    # weights into the BN affine: the same function, other rounding
    tol = dict(rtol=0, atol=0) if impl == "notebook" else dict(rtol=1e-5, atol=1e-6)
    for m in (ref, ours):
        m.train() if train else m.eval()
    x_ref, x_ours = _input(), _input()
    y_ref, y_ours = ref(x_ref), ours(x_ours)
    np.testing.assert_allclose(y_ours.numpy(), y_ref.numpy(), **tol)
    # a non-uniform upstream gradient, so every output element matters
    g = paddle.to_tensor(np.random.RandomState(2).randn(3, C, H, W).astype("float32"))
    (y_ref * g).sum().backward()
    (y_ours * g).sum().backward()
    np.testing.assert_allclose(x_ours.grad.numpy(), x_ref.grad.numpy(), **tol)
    bn_ref, bn_ours = ref.Channel_Att.bn2, ours.bn_channel
    for name in ("weight", "bias"):
        np.testing.assert_allclose(getattr(bn_ours, name).grad.numpy(),
                                   getattr(bn_ref, name).grad.numpy(), **tol)
    for name in ("_mean", "_variance"):  # running stats updated the same way in train mode
        np.testing.assert_array_equal(getattr(bn_ours, name).numpy(), getattr(bn_ref, name).numpy())


def test_formula_against_numpy_in_eval_mode():
    _, nam = _pair("fast")
    nam.eval()
    x = _input()
    bn = nam.bn_channel
    g, b = bn.weight.numpy(), bn.bias.numpy()
    mu, var = bn._mean.numpy(), bn._variance.numpy()
    xn = x.numpy()
    normed = (xn - mu[:, None, None]) / np.sqrt(var[:, None, None] + 1e-5) * g[:, None, None] \
        + b[:, None, None]
    w = np.abs(g) / np.abs(g).sum()
    expected = xn / (1 + np.exp(-normed * w[:, None, None]))
    np.testing.assert_allclose(nam(x).numpy(), expected, rtol=1e-5, atol=1e-6)


def test_spatial_branch_matches_numpy_in_train_mode():
    nam = NAM(C, spatial=True, spatial_size=H * W)
    rng = np.random.RandomState(3)
    nam.bn_spatial.weight.set_value(rng.randn(H * W).astype("float32"))
    nam.bn_spatial.bias.set_value(rng.randn(H * W).astype("float32"))
    nam.train()
    x = _input(4)
    out = nam(x).numpy()
    # channel gate with batch statistics (γ=1, β=0 by default)
    xn = x.numpy()
    mu, var = xn.mean(axis=(0, 2, 3), keepdims=True), xn.var(axis=(0, 2, 3), keepdims=True)
    wc = np.full(C, 1.0 / C)
    y = xn / (1 + np.exp(-((xn - mu) / np.sqrt(var + 1e-5)) * wc[:, None, None]))
    # pixel gate: every position is a BN channel, statistics over batch and channels
    p = y.reshape(3, C, H * W)
    mu_p, var_p = p.mean(axis=(0, 1)), p.var(axis=(0, 1))
    gs, bs = nam.bn_spatial.weight.numpy(), nam.bn_spatial.bias.numpy()
    normed = (p - mu_p) / np.sqrt(var_p + 1e-5) * gs + bs
    ws = np.abs(gs) / np.abs(gs).sum()
    expected = (p / (1 + np.exp(-normed * ws))).reshape(3, C, H, W)
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-5)


def test_spatial_needs_a_fixed_size():
    with pytest.raises(ValueError, match="spatial_size"):
        NAM(C, spatial=True)
    nam = NAM(C, spatial=True, spatial_size=H * W)
    with pytest.raises(ValueError, match="H\\*W=20"):
        nam(paddle.randn([2, C, H + 1, W]))


def test_bad_impl_is_rejected():
    with pytest.raises(ValueError, match="fast"):
        NAM(C, impl="slow")


def test_sparsity_loss_is_l1_of_attention_scales():
    assert NAM(C).sparsity_loss() is None
    nam = NAM(C, spatial=True, spatial_size=H * W, sparsity=1e-3)
    _randomize_bn(nam.bn_channel, 5)
    expected = 1e-3 * (np.abs(nam.bn_channel.weight.numpy()).sum()
                       + np.abs(nam.bn_spatial.weight.numpy()).sum())
    loss = nam.sparsity_loss()
    np.testing.assert_allclose(float(loss), expected, rtol=1e-6)
    loss.backward()  # d/dγ λ|γ| = λ sign(γ)
    np.testing.assert_allclose(nam.bn_channel.weight.grad.numpy(),
                               1e-3 * np.sign(nam.bn_channel.weight.numpy()), rtol=1e-6)


def test_collect_sums_over_submodules():
    seq = paddle.nn.Sequential(NAM(C, sparsity=0.5), NAM(3), NAM(4, sparsity=0.5))
    # default γ = 1: 0.5 * (6 + 4); the λ=0 module contributes nothing
    np.testing.assert_allclose(float(collect_sparsity_loss(seq)), 5.0, rtol=1e-6)
    assert collect_sparsity_loss(paddle.nn.Sequential(NAM(C))) is None


def test_fast_form_uses_the_layers_bn_settings_over_several_steps():
    # The folded form calls F.batch_norm itself, so it must take momentum/epsilon from the
    # BN layer (not Paddle's defaults) and keep the running statistics in step with the
    # notebook over several updates, then agree in eval mode with those statistics.
    ref, ours = _pair("fast")
    for bn in (ref.Channel_Att.bn2, ours.bn_channel):
        bn._momentum, bn._epsilon = 0.5, 1e-2
    ref.train(), ours.train()
    for seed in (10, 11, 12):
        ref(_input(seed)), ours(_input(seed))
    for name in ("_mean", "_variance"):
        np.testing.assert_allclose(getattr(ours.bn_channel, name).numpy(),
                                   getattr(ref.Channel_Att.bn2, name).numpy(), rtol=1e-6,
                                   atol=1e-7)
    ref.eval(), ours.eval()
    x = _input(13)
    np.testing.assert_allclose(ours(x).numpy(), ref(x).numpy(), rtol=1e-5, atol=1e-6)


def test_fast_form_with_frozen_bn_parameters():
    # γ, β frozen (stop_gradient): the folded affine must still give the notebook's output and
    # input gradient, and leave the frozen parameters without gradients.
    ref, ours = _pair("fast")
    for bn in (ref.Channel_Att.bn2, ours.bn_channel):
        bn.weight.stop_gradient = True
        bn.bias.stop_gradient = True
    x_ref, x_ours = _input(20), _input(20)
    y_ref, y_ours = ref(x_ref), ours(x_ours)
    np.testing.assert_allclose(y_ours.numpy(), y_ref.numpy(), rtol=1e-5, atol=1e-6)
    y_ref.sum().backward(), y_ours.sum().backward()
    np.testing.assert_allclose(x_ours.grad.numpy(), x_ref.grad.numpy(), rtol=1e-5, atol=1e-6)
    assert ours.bn_channel.weight.grad is None and ours.bn_channel.bias.grad is None


def test_state_dict_keys_do_not_depend_on_impl():
    keys = {impl: sorted(NAM(C, impl=impl).state_dict()) for impl in ("fast", "notebook")}
    assert keys["fast"] == keys["notebook"]


def test_spatial_branch_in_eval_mode_equals_bn_then_weights():
    # the pixel branch folds |λ|/Σ|λ| into its BN affine; in eval mode (running statistics)
    # that must equal the unfolded "BN, then multiply" form.
    nam = NAM(C, spatial=True, spatial_size=H * W)
    _randomize_bn(nam.bn_channel, 6)
    _randomize_bn(nam.bn_spatial, 7)
    nam.eval()
    x = _input(8)
    gated = nam._channel_gate(x)
    bn = nam.bn_spatial
    p = gated.reshape([3, C, H * W]).transpose([0, 2, 1])
    lam = bn.weight.abs() / bn.weight.abs().sum()
    expected = paddle.nn.functional.sigmoid(bn(p) * lam.reshape([1, -1, 1]))
    expected = expected.transpose([0, 2, 1]).reshape([3, C, H, W]) * gated
    np.testing.assert_allclose(nam(x).numpy(), expected.numpy(), rtol=1e-5, atol=1e-6)
