"""Small helpers shared by the model tests."""
import numpy as np
import paddle


def randomize_bns(model, seed, gamma_mean=1.0, gamma_std=0.2):
    """Random BN affine and running stats, so eval mode is not the identity-initialised case.

    ``gamma_mean=0.5, gamma_std=0.5`` makes some γ negative (NAM weighs channels by |γ|).
    """
    rng = np.random.RandomState(seed)
    for layer in model.sublayers():
        if isinstance(layer, paddle.nn.BatchNorm2D):
            n = layer.weight.shape[0]
            layer.weight.set_value((rng.randn(n) * gamma_std + gamma_mean).astype("float32"))
            layer.bias.set_value((0.1 * rng.randn(n)).astype("float32"))
            layer._mean.set_value((0.1 * rng.randn(n)).astype("float32"))
            layer._variance.set_value((1 + 0.2 * rng.rand(n)).astype("float32"))


def input_tensor(shape, seed=0):
    """A float32 input [shape] that records its gradient."""
    x = paddle.to_tensor(np.random.RandomState(seed).randn(*shape).astype("float32"))
    x.stop_gradient = False
    return x
