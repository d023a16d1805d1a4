"""Run every benchmark in one process: layers, whole models, input pipelines.

    python tools/benchmark.py [--quick] [--threads N] [--only layers,models,pipeline,threads,mkl]
                              [--workers 0,2] [--write-docs] [--json out.json]
    python tools/benchmark.py --peers [--threads 2] [--rounds 3] [--nets ...] [--to-static]
    python tools/benchmark.py --deploy-peers [bench_deploy_peers.py's options]

``--peers``: only the comparison with the same networks in PyTorch (benchmarks/bench_peers.py;
needs ``pip install torch``, which nothing else uses). ``--deploy-peers``: only the deployment
table, the exported predictor (plain and oneDNN) against PyTorch eager, TorchScript and ONNX
Runtime (benchmarks/bench_deploy_peers.py, which takes every option after the flag).

Threads are fixed before Paddle is imported. ``--write-docs`` puts the tables, the exact
command and the environment into benchmarks/RESULTS.md between its markers. Logic lives in
benchmarks/ (bench_layers.py, bench_models.py, bench_pipeline.py, perf_docs.py).
"""
import argparse
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
for _p in (ROOT, os.path.join(ROOT, "benchmarks")):
    if _p not in sys.path:
        sys.path.insert(0, _p)

import harness  # noqa: E402

PARTS = ("layers", "models", "pipeline", "threads", "mkl")


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["--deploy-peers"]:  # its own options (--models, --batches, --quick, ...)
        import bench_deploy_peers
        return bench_deploy_peers.main(argv[1:])
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="small batches, few repeats")
    harness.add_machine_args(p)
    p.add_argument("--only", default=",".join(PARTS), help="subset of " + ", ".join(PARTS))
    p.add_argument("--workers", default="0", help="pipeline: loader worker counts, e.g. 0,2")
    p.add_argument("--write-docs", action="store_true", help="update benchmarks/RESULTS.md")
    p.add_argument("--docs-block", help="with --write-docs: a named block (default: the main one)")
    p.add_argument("--json", help="also write all results to this JSON file")
    p.add_argument("--peers", action="store_true",
                   help="only: ours vs the same networks in PyTorch (fresh processes)")
    p.add_argument("--deploy-peers", action="store_true",
                   help="first argument only: the deployment peer table; the options after it go "
                        "to benchmarks/bench_deploy_peers.py (see its --help)")
    p.add_argument("--rounds", type=int, default=3, help="--peers: alternating rounds")
    p.add_argument("--nets", help="--peers: subset of networks, comma-separated")
    p.add_argument("--to-static", action="store_true", help="--peers: also ours under to_static")
    args = p.parse_args(argv)
    if args.deploy_peers:  # only reached when it was not the first argument
        p.error("--deploy-peers must come first: tools/benchmark.py --deploy-peers [its options]")
    # The benchmark modules are imported where they are used: each part sets the thread
    # variables before Paddle's first import (benchmarks/harness.py), so none is imported earlier.
    if args.peers:  # its own children set threads; nothing here imports paddle
        import bench_peers
        res = bench_peers.run(args)
        print(bench_peers.markdown(res))
        harness.write_json(args.json, res)
        return res
    only = [s.strip() for s in args.only.split(",") if s.strip()]
    bad = sorted(set(only) - set(PARTS))
    if bad:
        p.error(f"unknown part(s) {bad}; valid: {', '.join(PARTS)}")
    harness.configure_threads(args.threads, args.stock_mkl, args.stock_malloc)  # before anything imports paddle
    sections, results = [], {}
    if "layers" in only:  # first: bench_layers re-checks that paddle is not imported yet
        import bench_layers
        flags = (["--threads", str(args.threads)] + (["--stock-mkl"] if args.stock_mkl else [])
                 + (["--quick", "--no-memory"] if args.quick else []))
        results["layers"] = bench_layers.main(flags)
        sections.append(("Layers (benchmarks/bench_layers.py)",
                         bench_layers.markdown(results["layers"]) if results["layers"] else
                         "No layer rows (layer modules missing)."))
    rates = None
    if "models" in only:
        import bench_models
        results["models"] = bench_models.run(args.quick)
        rates = {r["model"]: r["train_img_s"] for r in results["models"]["rows"]}
        sections.append(("Models (benchmarks/bench_models.py)",
                         bench_models.markdown(results["models"])))
    if "pipeline" in only:
        import bench_pipeline
        workers = [int(w) for w in args.workers.split(",")]
        results["pipeline"] = bench_pipeline.run(args.quick, workers, rates)
        sections.append(("Input pipelines (benchmarks/bench_pipeline.py)",
                         bench_pipeline.markdown(results["pipeline"])))
    for part, settings, title in (
            ("threads", "THREAD_SETTINGS", "Thread settings (bench_models.py --threads-matrix"),
            ("mkl", "MKL_SETTINGS", f"MKL dispatch at {args.threads} thread(s) "
                                    "(bench_models.py --mkl-matrix")):
        if part in only:  # fresh subprocesses, each with its own environment
            import bench_models
            results[part] = bench_models.thread_matrix(
                args.quick, settings=getattr(bench_models, settings))
            sections.append((title + "; ms, ratio to the first column)",
                             bench_models.thread_markdown(results[part])))
    import targets
    results["targets"] = targets.check(results)
    sections.insert(0, ("Targets (issue 6), from this run", targets.markdown(results["targets"])))
    env = harness.environment()  # after the runs: the load average at the end
    env_lines = harness.format_header(env)
    print("\n" + env_lines + "\n\n" + "\n\n".join(f"## {t}\n\n{b}" for t, b in sections))
    if args.write_docs:
        import perf_docs
        cmd = "python tools/benchmark.py " + " ".join(argv if argv is not None else sys.argv[1:])
        perf_docs.write(os.path.join(ROOT, "benchmarks", "RESULTS.md"),
                        perf_docs.measured_block(cmd.strip(), env_lines, sections, args.docs_block))
        print("\nwrote benchmarks/RESULTS.md")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"env": env, **results}, f, indent=1, default=str)


if __name__ == "__main__":
    main()
