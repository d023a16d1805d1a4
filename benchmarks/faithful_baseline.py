"""Did a refactor change what a faithful run computes? Train every faithful config for one
tiny epoch in two checkouts and compare their records value for value.

Each config runs 2 steps of 32 images and one eval pass over 64 images of the exact-pixel
CIFAR samples (CIFAR-100 for NAM), in the checkout's own ``tools/train.py`` with that
checkout on ``PYTHONPATH``. Every value of ``metrics.jsonl`` and ``train_steps.jsonl`` but
the timings must be identical. Usage (the checkout before the change in a worktree):

    git worktree add ../before <commit before the change>
    python benchmarks/faithful_baseline.py --before ../before --after . \
        --data ../shared/data
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

CONFIGS = ("condconv/alexnet_bn", "condconv/alexnet_condconv", "acmix/alexnet",
           "acmix/alexnet_acmix", "nam/resnet50_nam", "nam/resnet50_fair",
           "shufflenetv2/x0_5", "shufflenetv2/x0_5_blog")
TIMINGS = {"epoch_time_s", "train_ips", "wall_time_s", "throughput_img_s"}
RECORDS = ("metrics.jsonl", "train_steps.jsonl")


def train(checkout, config, data_dir, out):
    data = "cifar-100-python-exact-mini.tar.gz" if config.startswith("nam/") \
        else "cifar-10-python-exact-mini.tar.gz"
    cmd = [sys.executable, "tools/train.py", "-c", f"configs/{config}.yaml", "-o",
           "Global.epochs=1", f"Global.output_dir={out}", "Global.device=cpu",
           "Global.throughput=false", "Global.progress_bar=false",
           f"DataLoader.dataset.data_file={os.path.join(data_dir, data)}",
           "DataLoader.Train.num_samples=64", "DataLoader.Eval.num_samples=64",
           "DataLoader.Train.batch_size=32", "DataLoader.Eval.batch_size=32",
           "DataLoader.Train.num_workers=0", "DataLoader.Eval.num_workers=0"]
    env = {**os.environ, "PYTHONPATH": os.path.abspath(checkout), "OMP_NUM_THREADS": "1"}
    subprocess.run(cmd, cwd=checkout, env=env, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    records = {}
    for name in RECORDS:
        with open(os.path.join(out, name), encoding="utf-8") as f:
            records[name] = [{k: v for k, v in json.loads(line).items() if k not in TIMINGS}
                             for line in f if line.strip()]
    return records


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--before", required=True, help="checkout before the change")
    parser.add_argument("--after", default=".", help="checkout after the change")
    parser.add_argument("--data", default="../shared/data", help="folder of the CIFAR samples")
    parser.add_argument("--configs", default=",".join(CONFIGS), help="comma-separated subset")
    args = parser.parse_args()
    configs = [c for c in args.configs.split(",") if c]
    data = os.path.abspath(args.data)
    changed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for config in configs:
            name = config.replace("/", "_")
            before = train(args.before, config, data, os.path.join(tmp, "before", name))
            after = train(args.after, config, data, os.path.join(tmp, "after", name))
            values = sum(len(r) for recs in before.values() for r in recs)
            same = before == after
            changed += not same
            print(f"{config:28s} {'identical' if same else 'DIFFERENT'} ({values} values)", flush=True)
            if not same:
                for file in RECORDS:
                    for a, b in zip(before[file], after[file]):
                        for key in sorted(set(a) | set(b)):
                            if a.get(key) != b.get(key):
                                print(f"    {file} {key}: {a.get(key)} -> {b.get(key)}")
    print(f"{len(configs) - changed} of {len(configs)} faithful configs identical")
    return 1 if changed else 0


if __name__ == "__main__":
    sys.exit(main())
