"""What notebook 004's shuffled drop_last test loader does to the reported test accuracy.

    python benchmarks/bench_test_shuffle.py -c <run>/config.yaml -w <run>/final_model.pdparams \
        [--draws 10000] [-o KEY=VALUE ...]

The executed notebook evaluated with ``DataLoader(testset, 128, shuffle=True, drop_last=True)``:
every epoch scores a random 9,984 of the 10,000 test images, and its ``utils.train`` prints
the mean of the 78 batch accuracies (= correct / 9,984, all batches being full). In eval mode
the network's answer for an image does not depend on its batch, so one pass over the whole
test split in file order gives every image's correctness, and each shuffled drop_last epoch is
then a random subset of it: ``--draws`` such epochs are drawn (numpy seed 0) at the config's
Eval batch size, and at the batch size that drops the same share as 16 of 10,000 would. Prints
the accuracy on all images and the mean, spread and range of the drawn epochs'.
"""
import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def per_image_correct(cfg, weights):
    """0/1 per test image (file order), from one pass of the model in eval mode."""
    import paddle
    from paddle_repro.data import build_loader
    from paddle_repro.engine.run import build_model_from_cfg
    from paddle_repro.models import load_weights
    split = {**cfg["DataLoader"]["Eval"], "shuffle": False, "drop_last": False, "num_workers": 0}
    loader = build_loader(cfg["DataLoader"]["dataset"], split, "test", cfg["Global"]["seed"])
    model = build_model_from_cfg(cfg, getattr(loader.dataset, "num_classes", None))
    load_weights(model, weights)
    model.eval()
    correct = []
    with paddle.no_grad():
        for images, labels in loader:
            pred = paddle.argmax(model(images), axis=1).numpy()
            correct.append(pred == labels.numpy().reshape(-1))
    return np.concatenate(correct).astype(np.float64)


def shuffled_drop_last_epochs(correct, batch, draws, rng):
    """Accuracy of ``draws`` epochs of a shuffle=True, drop_last=True loader over ``correct``."""
    kept = len(correct) // batch * batch
    return np.array([correct[rng.permutation(len(correct))[:kept]].mean() for _ in range(draws)]), kept


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("-c", "--config", required=True)
    p.add_argument("-w", "--weights", required=True)
    p.add_argument("--draws", type=int, default=10000)
    p.add_argument("-o", "--override", nargs="*", default=[])
    args = p.parse_args(argv)
    from paddle_repro.config import load_config
    cfg = load_config(args.config, args.override)
    correct = per_image_correct(cfg, args.weights)
    n = len(correct)
    batch = cfg["DataLoader"]["Eval"]["batch_size"]
    # the batch size, nearest the config's, whose drop_last drops the share closest to 16 / 10,000
    same_share = min(range(2, n + 1), key=lambda b: (abs((n % b) / n - 16 / 10000), abs(b - batch)))
    print(f"all {n} test images: accuracy {correct.mean():.4f}")
    rng = np.random.RandomState(0)
    for b in (batch, same_share):
        acc, kept = shuffled_drop_last_epochs(correct, b, args.draws, rng)
        print(f"shuffle + drop_last at batch {b} ({kept} of {n} scored, {n - kept} dropped), "
              f"{args.draws} epochs: mean {acc.mean():.4f}, std {acc.std():.4f}, "
              f"range {acc.min():.4f}-{acc.max():.4f}, mean - all {acc.mean() - correct.mean():+.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
