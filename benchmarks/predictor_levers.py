"""Batch-1 latency of the exported predictor: an op-level profile and Paddle Inference's levers.

    python benchmarks/predictor_levers.py [--models shufflenetv2_x0_5,alexnet_bn] [--batch 1]
        [--threads 1] [--rounds 7] [--calls 200] [--json out.json] [--no-profile]

Per network, the suite's model (seed 0, random BatchNorm statistics, as in
``bench_deploy_peers.py``) is exported with ``paddle_repro.deploy.export.save_program``. Then:

1. **Levers.** One predictor per ``LEVERS`` entry, each a variation of the suite's default
   (oneDNN on, IR optimisation on, zero-copy handles, 1 thread): IR optimisation off, memory
   optimisation, the oneDNN cache capacity, the new executor / PIR program off and on, oneDNN
   bfloat16 (AMX), 2 math threads, plain CPU kernels, and the Python wrapper (``InferenceModel.logits``)
   against bare ``predictor.run()`` on handles fetched once. Every predictor's logits are
   compared with the dygraph model's first (relative error printed; bfloat16 is expected to
   differ). Then ``--rounds`` interleaved rounds (order reversed every other round) of
   ``--calls`` calls each; a round's figure is its median call. Printed per lever: the median
   over rounds in ms and the ratio default / lever (> 1: the lever is faster) with min-max.
2. **Profile.** ``Config.enable_profile()`` on the default predictor for ``--calls`` runs: Paddle
   prints its per-op table to stderr when the predictor is destroyed; this script keeps it
   and prints the top ops by total time, and how much of a call the ops account for (the
   rest is the executor's per-call overhead).

Only one run's ratios mean anything, and only on an IDLE machine.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import numpy as np  # noqa: E402

import harness  # noqa: E402

MODELS = ["shufflenetv2_x0_5", "alexnet_bn"]


def _set(config, *names):
    """Calls the first of ``names`` the Config has (the API differs between 2.6 and 3.x)."""
    for name in names:
        method = getattr(config, name.split("(")[0], None)
        if method is not None:
            return method
    raise AttributeError(f"this Paddle's Config has none of {names}")


# name -> (what it changes, function(config) applied after the default's settings)
LEVERS = {
    "default": ("oneDNN on, IR optimisation on (what tools/infer.py runs)", lambda c: None),
    "plain": ("oneDNN off (plain CPU kernels)", lambda c: _set(c, "disable_onednn", "disable_mkldnn")()),
    "no_ir_optim": ("IR optimisation off (no fuse passes)", lambda c: c.switch_ir_optim(False)),
    "memory_optim": ("enable_memory_optim()", lambda c: c.enable_memory_optim()),
    "cache_1": ("oneDNN cache capacity 1 (one input shape)",
                lambda c: _set(c, "set_onednn_cache_capacity", "set_mkldnn_cache_capacity")(1)),
    "old_executor": ("enable_new_executor(False)", lambda c: c.enable_new_executor(False)),
    "pir": ("enable_new_ir(True) (PIR program)", lambda c: c.enable_new_ir(True)),
    "no_pir": ("enable_new_ir(False) (legacy program)", lambda c: c.enable_new_ir(False)),
    "threads_2": ("2 math threads (the others: 1)", lambda c: c.set_cpu_math_library_num_threads(2)),
    "bf16": ("oneDNN bfloat16 (AMX); not exact",
             lambda c: _set(c, "enable_onednn_bfloat16", "enable_mkldnn_bfloat16")()),
}


def export(name, folder, threads):
    """Exports the suite's model into ``folder``; returns (probe [2, C, H, W], its logits)."""
    import paddle
    import deploy_workers
    from paddle_repro.deploy.export import save_program
    from paddle_repro.deploy.files import PARAMS_FILE
    from paddle_repro.deploy.meta import build_meta, sha256_of, write_meta
    from paddle_repro.models import build_model
    paddle.set_device("cpu")
    paddle.seed(0)
    model = build_model(name, num_classes=10)
    deploy_workers._randomise_bn(model, paddle)
    model.eval()
    shape = deploy_workers.input_shape(name)
    program = save_program(model, folder, shape)
    write_meta(folder, build_meta(name, "-", os.path.basename(program), shape, [],
                                  [str(i) for i in range(10)],
                                  params_sha256=sha256_of(os.path.join(folder, PARAMS_FILE))))
    probe = deploy_workers.batch_input(2, shape)
    with paddle.no_grad():
        return probe, model(paddle.to_tensor(probe)).numpy()


def predictor(folder, threads, lever, profile=False):
    """A bare predictor with the default's settings plus ``lever``; (run(x) -> logits, config)."""
    import paddle.inference as paddle_infer
    from paddle_repro.deploy import onednn
    from paddle_repro.deploy.files import PARAMS_FILE, program_file
    config = paddle_infer.Config(program_file(folder), os.path.join(folder, PARAMS_FILE))
    config.disable_gpu()
    config.set_cpu_math_library_num_threads(threads)
    onednn.configure(config, True)
    config.disable_glog_info()
    LEVERS[lever][1](config)
    if profile:
        config.enable_profile()
    pred = paddle_infer.create_predictor(config)
    inp = pred.get_input_handle(pred.get_input_names()[0])
    out = pred.get_output_handle(pred.get_output_names()[0])

    def run(x):
        inp.reshape(list(x.shape))
        inp.copy_from_cpu(x)
        pred.run()
        return out.copy_to_cpu()
    return run, pred


def time_calls(run, x, calls):
    times = []
    for _ in range(calls):
        began = time.perf_counter()
        run(x)
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def levers(name, folder, probe, reference, args):
    """{lever: {"ms": [round medians], "rel_err": float}} plus the wrapper row."""
    from paddle_repro.deploy.predictor import InferenceModel
    runs, result = {}, {}
    for lever in LEVERS:
        try:
            run, _ = predictor(folder, args.threads, lever)
            got = run(probe)
        except Exception as err:  # noqa: BLE001  a lever this Paddle lacks or rejects
            result[lever] = {"error": str(err).strip().splitlines()[-1][:200]}
            continue
        err = float(np.abs(got - reference).max() / np.abs(reference).max())
        runs[lever], result[lever] = run, {"rel_err": err, "ms": []}
    wrapper = InferenceModel(folder, threads=args.threads, onednn=True)
    runs["wrapper"] = wrapper.logits
    result["wrapper"] = {"rel_err": float(np.abs(wrapper.logits(probe) - reference).max()
                                          / np.abs(reference).max()), "ms": []}
    x = probe[:1].repeat(args.batch, axis=0) if args.batch > 1 else probe[:1].copy()
    order = list(runs)
    for run in runs.values():
        time_calls(run, x, 20)  # warm-up: oneDNN primitives are created on the first calls
    for r in range(args.rounds):
        for lever in (order if r % 2 == 0 else order[::-1]):
            result[lever]["ms"].append(1000 * time_calls(runs[lever], x, args.calls))
            time.sleep(0.1)
    return result


def profile(name, folder, args):
    """Runs the default predictor with enable_profile() in a child; (top op rows, total ms)."""
    code = (f"import sys; sys.path.insert(0, {HERE!r}); import predictor_levers as p, numpy as np; "
            f"run, pred = p.predictor({folder!r}, {args.threads}, 'default', profile=True); "
            f"x = np.load({os.path.join(folder, 'x.npy')!r}); "
            f"[run(x) for _ in range({args.calls})]; del pred, run")
    env = dict(os.environ, **{v: str(args.threads) for v in harness.THREAD_VARS})
    # cwd: Paddle also writes a binary profile.log into the working directory
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          timeout=900, cwd=folder)
    text = done.stdout + done.stderr
    return text


def summarise_profile(text, top=12):
    """The table lines of Paddle's profile report that name ops, sorted as Paddle prints them."""
    lines = [ln for ln in text.splitlines() if re.match(r"^\s*\S+\s+\d+\s+[\d.]+", ln)]
    return lines[:top]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", default=",".join(MODELS))
    p.add_argument("--batch", type=int, default=1)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--rounds", type=int, default=7)
    p.add_argument("--calls", type=int, default=200)
    p.add_argument("--no-profile", action="store_true")
    p.add_argument("--json")
    args = p.parse_args(argv)
    harness.configure_threads(args.threads, False, False)
    out = {"environment": harness.environment(), "settings": vars(args), "models": {},
           "load_avg_start": os.getloadavg()[0]}
    for name in args.models.split(","):
        with tempfile.TemporaryDirectory(prefix=f"levers-{name}-") as folder:
            probe, reference = export(name, folder, args.threads)
            res = levers(name, folder, probe, reference, args)
            base = res["default"]["ms"]
            print(f"{name}, batch {args.batch}, {args.threads} thread(s):")
            for lever, row in res.items():
                if "error" in row:
                    if lever == "default":
                        raise SystemExit(f"{name}: the default predictor failed: {row['error']}")
                    print(f"  {lever:13s} unavailable: {row['error']}")
                    continue
                ratio, (lo, hi) = harness.median_of_ratios(base, row["ms"])
                what = LEVERS[lever][0] if lever in LEVERS else "InferenceModel.logits (the suite's wrapper)"
                print(f"  {lever:13s} {statistics.median(row['ms']):7.3f} ms  default/lever "
                      f"{ratio:.2f} ({lo:.2f}-{hi:.2f})  rel.err {row['rel_err']:.1e}  {what}")
            report = None
            if not args.no_profile:
                np.save(os.path.join(folder, "x.npy"), probe[:1].repeat(args.batch, axis=0))
                report = profile(name, folder, args)
                print("  profile (Paddle's enable_profile report, top rows):")
                for line in summarise_profile(report):
                    print("   " + line)
            out["models"][name] = {"levers": res, "profile": report}
    out["load_avg_end"] = os.getloadavg()[0]
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
