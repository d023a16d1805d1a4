"""``TrainState``: what changes while a run trains, and what its checkpoints save.

The built objects of a run (``run.Run``) never change; this small state does: epochs done,
the global step, the best value of ``Metric.best_by`` and its epoch, the last epoch record,
and the sums of an interrupted epoch. ``checkpoint_state`` is the ``.pdstates`` dict:
this state plus what the objects hold (the LR controller's state, the RNG states, the EMA
weights, the resolved config). The dict's keys are those of earlier versions (``best_top1``
holds best_by's value), so their checkpoints resume.
"""
from dataclasses import asdict, dataclass, field
from typing import Optional

from .. import runtime
from .loop import EpochStats


@dataclass
class TrainState:
    """Mutable training progress of one run.

    Attributes:
        epoch: epochs completed (0 before the first).
        global_step: batches trained over the whole run (the x-axis of per-step logs).
        best_value: the best ``Metric.best_by`` value so far (None before any eval).
        best_epoch: the epoch that scored it, saved as ``best_model``.
        last: the last epoch record (one ``metrics.jsonl`` line).
        partial: ``EpochStats`` fields of an epoch cut short by a signal (None otherwise).
    """
    epoch: int = 0
    global_step: int = 0
    best_value: Optional[float] = None
    best_epoch: Optional[int] = None
    last: dict = field(default_factory=dict)
    partial: Optional[dict] = None

    @classmethod
    def from_checkpoint(cls, saved):
        """The state saved by ``checkpoint_state`` (a ``.pdstates`` dict)."""
        return cls(epoch=saved["epoch"], global_step=saved["global_step"],
                   best_value=saved.get("best_top1"), best_epoch=saved.get("best_epoch"),
                   last=saved.get("last") or {}, partial=saved.get("partial"))

    def take_partial(self):
        """The ``EpochStats`` to continue the next epoch with (restored once, then fresh)."""
        partial, self.partial = self.partial, None
        return EpochStats(**partial) if partial else EpochStats()

    def improves(self, record, best_by):
        """Whether ``record`` beats the best so far on ``best_by`` (the notebooks' ``>``)."""
        return best_by in record and (self.best_value is None or record[best_by] > self.best_value)


def checkpoint_state(run, state, stats=None):
    """The ``.pdstates`` dict of ``run`` at ``state`` (``stats``: an unfinished epoch's sums)."""
    return {"epoch": state.epoch, "global_step": state.global_step,
            "best_top1": state.best_value, "best_epoch": state.best_epoch,
            "last": state.last, "lr": run.lr.state_dict(),
            "rng": runtime.get_rng_states(), "config": run.cfg,
            "partial": None if stats is None else asdict(stats),
            "ema": run.ema.state_dict() if run.ema is not None else None}
