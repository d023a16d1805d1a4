"""paddle_repro: faithful PaddlePaddle reproductions of CondConv, ACmix, NAM and ShuffleNetV2."""
import warnings

# Paddle 2.6 + opencv: importing cv2 after paddle crashes in zlib once images are decoded;
# importing it first is harmless everywhere, so the package does it before anything else.
import cv2  # noqa: F401

# `import paddle` warns about ccache (used only to compile custom C++ ops, which we never do);
# on every command it buries the first lines users should read.
warnings.filterwarnings("ignore", message="No ccache found")

__version__ = "0.1.0"
