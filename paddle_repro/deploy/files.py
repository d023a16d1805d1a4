"""Which files an exported folder holds, on Paddle 2.6 and 3.x.

``paddle.jit.save(layer, <dir>/inference)`` writes the program as ``inference.pdmodel``
(Paddle 2.6, and 3.x with the old IR) or ``inference.json`` (Paddle 3.x, PIR, the default),
and the weights as ``inference.pdiparams`` on both. ``inference.yml`` is ours.
"""
import os

PREFIX = "inference"
PROGRAM_FILES = (PREFIX + ".json", PREFIX + ".pdmodel")  # PIR first: what Paddle 3 writes
PARAMS_FILE = PREFIX + ".pdiparams"
META_FILE = PREFIX + ".yml"


def program_file(folder):
    """Path of the exported program in ``folder``, or None when there is none."""
    for name in PROGRAM_FILES:
        path = os.path.join(folder, name)
        if os.path.isfile(path):
            return path
    return None


def model_files(folder):
    """The program, weights and inference.yml paths present in ``folder`` (existing ones only)."""
    names = PROGRAM_FILES + (PARAMS_FILE, META_FILE)
    return [os.path.join(folder, n) for n in names if os.path.isfile(os.path.join(folder, n))]
