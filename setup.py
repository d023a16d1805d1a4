"""Install paddle_repro: ``pip install -e .[cpu,test]`` (or ``[gpu]`` with a CUDA build)."""
from setuptools import find_packages, setup

# One command per tool, named after tools/<tool>.py (``_`` -> ``-``) as a PaddleClas or
# mmpretrain user knows them: ``paddle-repro-train -c cfg.yaml`` is ``python tools/train.py -c
# cfg.yaml``. Each is the ``main`` of ``paddle_repro/cli/<tool>.py`` (tests/test_cli.py checks
# the three agree). tools/benchmark.py has none: it runs benchmarks/, which is not installed.
TOOLS = ("train", "eval", "predict", "export_model", "infer", "reproduce", "compare", "summary")
CONSOLE_SCRIPTS = [f"paddle-repro-{t.replace('_', '-')} = paddle_repro.cli.{t}:main" for t in TOOLS]

setup(
    name="paddle_repro",
    version="0.1.0",
    description="Faithful, measured PaddlePaddle reproductions of CondConv, ACmix, NAM and ShuffleNetV2",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    python_requires=">=3.8",
    packages=find_packages(include=["paddle_repro", "paddle_repro.*"]),
    entry_points={"console_scripts": CONSOLE_SCRIPTS},
    install_requires=[
        "numpy",
        "opencv-python-headless",
        "matplotlib",
        "visualdl>=2.5",
        "pyyaml",
        "tqdm",
        "Pillow",  # image_backend: pil (already a paddlepaddle dependency)
    ],
    extras_require={
        "cpu": ["paddlepaddle>=2.6"],
        "gpu": ["paddlepaddle-gpu>=2.6"],
        "test": ["pytest"],
        # tools/reproduce.py --launcher ray (tables on a cluster); not needed otherwise
        "ray": ["ray>=2.9"],
        # tools/export_model.py --onnx: paddle2onnx 2.1.0 + onnxruntime 1.32.0 measured with Paddle 3.3.1
        "onnx": ["paddle2onnx>=2.1", "onnxruntime"],
        # tests only: notebook 004's own PyTorch code beside the suite (tests/test_loop_equivalence_004.py);
        # the package never imports torch
        "crosscheck": ["torch==2.13.0"],
    },
)
