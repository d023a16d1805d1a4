"""The notebooks' own definitions of their val numbers, recorded beside the true ones.

A table that puts our number beside a notebook's must compute it the notebook's way, or it
compares two different things. ``Metric.notebook_val`` names the definition; the trainer
then records ``val_top1_nb`` (and ``val_loss_nb`` / ``val_top5_nb`` where the notebook had
them) next to the true per-sample ``val_top1`` / ``val_loss`` in metrics.jsonl,
summary.json and VisualDL (``val_nb/*``).

* ``batch_mean`` (000 CondConv, 002 ACmix): ``Accuracy.update(paddle.metric.accuracy(...))``
  was fed each batch's *mean* accuracy, so ``accumulate()`` is the unweighted mean over
  batches and the short last batch (272 images in 000, 16 in 002) counts as a full one.
  Val loss: ``(sum of batch-mean losses / n) * batch_size``.
* ``paddle_model`` (003 NAM): ``paddle.Model.evaluate``: ``Accuracy(topk=(1, 5))`` from
  counts (= the true top-1/top-5); the ``loss`` it logs is the last batch's mean loss.
* ``mean_of_batches`` (004 ShuffleNetV2, ``utils.train``): test acc = the mean of per-batch
  accuracies (``get_acc``) and test loss = the mean of per-batch mean losses, both over
  ``len(testloader)``. With the faithful drop_last loader every batch is full and both equal
  the true top-1 / loss up to rounding; they differ once a short last batch is kept.
* ``counts``: ``correct / total`` over the loader (= the true top-1), no loss. Kept for
  configs written before 004's ``utils.train`` was known.
"""
from ..run_layout import VAL_LOSS_NB, VAL_TOP1_NB, VAL_TOP5_NB



def _batch_mean(res):
    return {VAL_TOP1_NB: res["batch_top1_sum"] / res["batches"],
            VAL_LOSS_NB: res["batch_loss_sum"] / res["n"] * res["max_batch"]}


def _paddle_model(res):
    return {VAL_TOP1_NB: res["top1"], VAL_TOP5_NB: res["top5"],
            VAL_LOSS_NB: res["last_batch_loss"]}


def _mean_of_batches(res):
    return {VAL_TOP1_NB: res["batch_top1_sum"] / res["batches"],
            VAL_LOSS_NB: res["batch_loss_sum"] / res["batches"]}


def _counts(res):
    return {VAL_TOP1_NB: res["top1"]}


NOTEBOOK_VAL = {
    "batch_mean": _batch_mean,
    "paddle_model": _paddle_model,
    "mean_of_batches": _mean_of_batches,
    "counts": _counts,
}


def notebook_val_metrics(definition, res):
    """The ``val_*_nb`` record entries of one evaluation.

    Args:
        definition: ``Metric.notebook_val`` (a key of ``NOTEBOOK_VAL``) or None.
        res: the dict ``engine.evaluate.evaluate`` returned.

    Returns:
        dict of floats (empty when ``definition`` is None).
    """
    if not definition:
        return {}
    return {k: float(v) for k, v in NOTEBOOK_VAL[definition](res).items()}
