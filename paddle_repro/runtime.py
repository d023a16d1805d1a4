"""Where and how a run executes: device choice, seeding, RNG state, versions, ranks.

Seeding follows the notebooks (``paddle.seed(42)``, ``np.random.seed(42)``) and adds Python's
``random`` (paddle.vision transforms draw from it). On top of that the trainer reseeds all
three at the start of every epoch from ``(seed, epoch)`` (``epoch_seed``): the shuffle order
(Paddle's ``RandomSampler`` draws from the global numpy RNG), the augmentations and dropout of
epoch ``e`` are then a function of ``(seed, e)`` alone, which is what makes a resumed run
bit-identical to an uninterrupted one on CPU. Saved generator states are kept for
inspection but are not needed for that, because Paddle 2.6 cannot serialise its CPU
generator state (a pickled ``GeneratorState`` does not round-trip there).
"""
import logging
import os
import platform
import random
import warnings

import numpy as np
import paddle
import paddle.distributed as dist

from . import process

log = logging.getLogger("paddle_repro")


def select_device(name):
    """Sets and returns the Paddle device for ``Global.device``.

    Args:
        name: ``"gpu"``, ``"cpu"`` or ``"auto"``.

    Returns:
        The device string given to ``paddle.set_device`` (``"cpu"`` or ``"gpu:<id>"``).
    """
    if name not in ("gpu", "cpu", "auto"):
        raise ValueError(f"Global.device must be gpu, cpu or auto, not {name!r}.")
    has_gpu = paddle.device.is_compiled_with_cuda() and paddle.device.cuda.device_count() > 0
    if name == "gpu" and not has_gpu:
        warnings.warn("Global.device=gpu but no CUDA GPU is available to Paddle; using cpu.",
                      RuntimeWarning, stacklevel=2)
    if name == "cpu" or not has_gpu:
        paddle.set_device("cpu")
        return "cpu"
    # Under paddle.distributed.launch each process owns the GPU named by FLAGS_selected_gpus.
    gpu_id = int(os.environ.get("FLAGS_selected_gpus", "0").split(",")[0])
    paddle.set_device(f"gpu:{gpu_id}")
    return f"gpu:{gpu_id}"


def seed_everything(seed):
    """Seeds paddle, numpy and random (the notebooks seeded paddle and numpy with 42)."""
    paddle.seed(seed)
    np.random.seed(seed % 2**32)
    random.seed(seed)


def epoch_seed(seed, epoch):
    """A well-mixed 31-bit seed for epoch ``epoch`` (0-based) of a run seeded ``seed``.

    ``seed + epoch`` would make run 42's epoch 1 replay run 43's epoch 0; SeedSequence
    mixes the pair instead.
    """
    return int(np.random.SeedSequence([seed, epoch]).generate_state(1)[0] % 2**31)


def get_rng_states():
    """The global RNG states of paddle, numpy and random, as a picklable dict."""
    try:
        paddle_state = paddle.get_rng_state()
    except Exception:  # noqa: BLE001 - informational only; never block a checkpoint on it
        paddle_state = None
    return {"paddle": paddle_state, "numpy": np.random.get_state(), "random": random.getstate()}


def set_paddle_rng_state(state):
    """Restores paddle's generator state (best-effort; None is a no-op)."""
    if state is None:
        return
    try:
        paddle.set_rng_state(state)
    except Exception:  # noqa: BLE001 - a GPU state restored on CPU, or vice versa
        log.warning("Could not restore the paddle RNG state (saved on another device).")


def versions():
    """Versions that matter for reproducing numbers."""
    return {"python": platform.python_version(), "paddle": paddle.__version__,
            "numpy": np.__version__, "mkl_dispatch": process.mkl_status(),
            "malloc": process.malloc_status()}


def world_size():
    """Number of data-parallel processes (1 outside paddle.distributed.launch)."""
    return int(os.environ.get("PADDLE_TRAINERS_NUM", "1"))


def rank():
    """This process's rank (0 outside paddle.distributed.launch)."""
    return int(os.environ.get("PADDLE_TRAINER_ID", "0"))


def init_distributed():
    """Initialises the parallel environment when launched with more than one process.

    Returns:
        True when running data parallel.
    """
    if world_size() <= 1:
        return False
    if not dist.is_initialized():
        dist.init_parallel_env()
    return True
