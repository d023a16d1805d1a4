"""Child processes of ``bench_deploy_peers.py``: one framework per process, driven over pipes.

    python benchmarks/deploy_workers.py prepare|paddle|torch|ort FOLDER NAME THREADS [options]

* ``prepare`` (Paddle): builds the suite's model (seed 0, 10 classes, BatchNorm statistics and
  affines randomised so the peers' BN ports are checked), exports it to FOLDER as
  ``tools/export_model.py`` does (program, weights, inference.yml), converts it to
  ``model.onnx`` with the suite's own paddle2onnx path (``paddle_repro.deploy.onnx``), and
  writes the weights (``weights.npz``), a probe batch and the dygraph logits of it. Prints one
  ``MSG {json}`` line (environment, versions, what could not be prepared) and exits.
* ``paddle`` / ``torch`` / ``ort``: load FOLDER into their backends (predictor plain and
  oneDNN; PyTorch eager and TorchScript; ONNX Runtime), print ``MSG {"ready": ...}``, then
  serve one JSON command per stdin line until ``quit``: ``check`` (each backend's logits of
  the probe) and ``time`` (wall times of ``reps`` calls of one backend at one batch, after
  ``warmup`` untimed calls the first time that backend sees that batch).

Only ``MSG`` lines on stdout are the protocol; libraries may print anything else. Inputs of
batch ``n`` are ``RandomState(n).rand(n, C, H, W)`` in every process, so every backend times
the same data. Threads are set before the framework is imported (``harness.py``).
"""
import argparse
import json
import os
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
for _p in (os.path.dirname(HERE), HERE):
    if _p not in sys.path:
        sys.path.insert(0, _p)

import numpy as np  # noqa: E402

import harness  # noqa: E402

PROBE, REFERENCE, WEIGHTS = "probe.npy", "reference.npy", "weights.npz"


def input_shape(name):
    """[C, H, W] each network is benchmarked at: 128x128 AlexNets, 32x32 CIFAR networks."""
    return (3, 128, 128) if name.startswith("alexnet") else (3, 32, 32)


def batch_input(batch, shape):
    return np.random.RandomState(batch).rand(batch, *shape).astype("float32")


def say(obj):
    print("MSG " + json.dumps(obj, default=str), flush=True)


def _randomise_bn(model, paddle):
    rng = np.random.RandomState(0)
    for layer in model.sublayers():
        if isinstance(layer, (paddle.nn.BatchNorm2D, paddle.nn.BatchNorm1D)):
            c = layer.weight.shape[0]
            layer._mean.set_value(rng.normal(0, 0.2, c).astype("float32"))
            layer._variance.set_value(rng.uniform(0.5, 2.0, c).astype("float32"))
            layer.weight.set_value(rng.uniform(0.5, 1.5, c).astype("float32"))
            layer.bias.set_value(rng.normal(0, 0.2, c).astype("float32"))


def prepare(folder, name, args):
    harness.configure_threads(args.threads, args.stock_mkl, args.stock_malloc)
    import paddle  # after configure_threads: OpenMP reads the thread count at import
    from paddle_repro.deploy.export import save_program
    from paddle_repro.deploy.meta import build_meta, write_meta
    from paddle_repro.models import build_model
    paddle.set_device("cpu")
    paddle.seed(0)
    model = build_model(name, num_classes=10)
    _randomise_bn(model, paddle)
    model.eval()
    shape = input_shape(name)
    program = save_program(model, folder, shape)
    write_meta(folder, build_meta(name, "-", os.path.basename(program), shape, [],
                                  [str(i) for i in range(10)]))
    np.savez(os.path.join(folder, WEIGHTS), **{k: v.numpy() for k, v in model.state_dict().items()})
    probe = batch_input(2, shape)
    with paddle.no_grad():
        reference = model(paddle.to_tensor(probe)).numpy()
    np.save(os.path.join(folder, PROBE), probe)
    np.save(os.path.join(folder, REFERENCE), reference)
    onnx_error, versions = None, {}
    try:
        import paddle2onnx  # the [onnx] extra: optional, as for tools/export_model.py --onnx
        from paddle_repro.deploy.onnx import convert
        versions["paddle2onnx"] = paddle2onnx.__version__
        convert(folder)
    except Exception as err:  # noqa: BLE001  ExportError, or the extra is missing
        onnx_error = str(err).splitlines()[0][:300]
    say({"environment": harness.environment(), "onnx_error": onnx_error, "image_shape": shape,
         "versions": versions})


def paddle_backends(folder, name, args):
    harness.configure_threads(args.threads, args.stock_mkl, args.stock_malloc)
    from paddle_repro.deploy.predictor import InferenceModel
    plain = InferenceModel(folder, threads=args.threads, onednn=False)
    onednn = InferenceModel(folder, threads=args.threads, onednn=True)
    return {"predictor": plain.logits, "predictor_onednn": onednn.logits}, {}


def torch_backends(folder, name, args):
    import torch
    import torch_custom
    torch.set_num_threads(args.threads)
    model, peer = torch_custom.build(name, acmix_official=args.acmix_official)
    weights = np.load(os.path.join(folder, WEIGHTS))
    torch_custom.port(model, {k: weights[k] for k in weights.files})
    traced = {}

    def eager(x):
        with torch.inference_mode():
            return model(torch.from_numpy(x)).numpy()

    def torchscript(x):
        if x.shape not in traced:  # traced per batch size: CondConv's groups = B is baked in
            with torch.no_grad():
                traced[x.shape] = torch.jit.freeze(torch.jit.trace(model, torch.from_numpy(x)))
        with torch.inference_mode():
            return traced[x.shape](torch.from_numpy(x)).numpy()
    return {"torch_eager": eager, "torchscript": torchscript}, {"peer": peer, "torch": torch.__version__}


def ort_backends(folder, name, args):
    import onnxruntime as ort
    options = ort.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = args.threads, 1
    session = ort.InferenceSession(os.path.join(folder, "model.onnx"), options,
                                   providers=["CPUExecutionProvider"])
    feed = session.get_inputs()[0].name
    return {"onnxruntime": lambda x: session.run(None, {feed: x})[0]}, {"onnxruntime": ort.__version__}


def serve(backends, shape):
    """Answers ``check`` / ``time`` / ``quit`` commands, one JSON object per stdin line."""
    seen = set()
    for line in sys.stdin:
        cmd = json.loads(line)
        if cmd["cmd"] == "quit":
            return
        try:
            say(_answer(cmd, backends, shape, seen))
        except Exception:  # noqa: BLE001  one backend failing at one batch is one empty cell
            say({"error": traceback.format_exc()[-1500:]})


def _answer(cmd, backends, shape, seen):
    if cmd["cmd"] == "check":
        probe = np.load(os.path.join(cmd["folder"], PROBE))
        return {"outputs": {k: np.asarray(fn(probe)).tolist() for k, fn in backends.items()}}
    fn, x = backends[cmd["backend"]], batch_input(cmd["batch"], shape)
    if (cmd["backend"], cmd["batch"]) not in seen:
        seen.add((cmd["backend"], cmd["batch"]))
        for _ in range(cmd["warmup"]):  # oneDNN primitives, TorchScript's profiling runs
            fn(x)
    times = []
    for _ in range(cmd["reps"]):
        start = time.perf_counter()
        fn(x)
        times.append(time.perf_counter() - start)
    return {"seconds": times}


BUILDERS = {"paddle": paddle_backends, "torch": torch_backends, "ort": ort_backends}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("kind", choices=["prepare"] + sorted(BUILDERS))
    p.add_argument("folder")
    p.add_argument("name")
    harness.add_machine_args(p)
    p.add_argument("--acmix-official")
    args = p.parse_args(argv)
    try:
        if args.kind == "prepare":
            return prepare(args.folder, args.name, args)
        backends, versions = BUILDERS[args.kind](args.folder, args.name, args)
        say({"ready": sorted(backends), "versions": versions})
    except Exception:  # noqa: BLE001  reported to the parent, which says which side failed
        say({"error": traceback.format_exc()[-1500:]})
        return None
    serve(backends, input_shape(args.name))
    return None


if __name__ == "__main__":
    main()
