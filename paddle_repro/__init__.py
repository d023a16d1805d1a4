"""paddle_repro: faithful PaddlePaddle reproductions of CondConv, ACmix, NAM and ShuffleNetV2.

Your own modules plug in with the decorators below (``paddle_repro.plugins``,
``docs/extending.md``): ``register_model``, ``register_attention``, ``register_conv``,
``register_transform``, ``register_init``, ``register_flops`` (and its ``sublayers_flops``).
"""
import warnings

# Paddle 2.6 + opencv: importing cv2 after paddle crashes in zlib once images are decoded;
# importing it first is harmless everywhere, so the package does it before anything else.
import cv2  # noqa: F401

# `import paddle` warns about ccache (used only to compile custom C++ ops, which we never do);
# on every command it buries the first lines users should read.
warnings.filterwarnings("ignore", message="No ccache found")
# Every BatchNorm forward in train mode warns this (paddle/nn/layer/norm.py, Paddle 2.6 and
# 3.x): it describes Paddle's ordinary BN behaviour, not a problem of the run, and printed at
# every training start it reads like one. Only this message, only from that module.
warnings.filterwarnings("ignore", message="When training, we now always track global mean and variance",
                        category=UserWarning, module=r"paddle\.nn\.layer\.norm")

__version__ = "0.1.0"

PLUGIN_NAMES = ("register_model", "register_attention", "register_conv", "register_transform",
                "register_init", "register_flops", "sublayers_flops")
__all__ = list(PLUGIN_NAMES)


def __getattr__(name):
    """The decorators load ``paddle_repro.plugins`` (paddle, every model) on first use only:
    processes that just read run folders (``report``) never import paddle."""
    if name in PLUGIN_NAMES:
        from . import plugins
        return getattr(plugins, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(PLUGIN_NAMES))
