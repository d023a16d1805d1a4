"""The batched input pipeline (``pipeline: batched``): numpy/cv2 over whole batches.

The notebooks (CondConv arXiv:1904.04971, ACmix arXiv:2111.14556, NAM arXiv:2111.12419,
ShuffleNetV2 arXiv:1807.11164) feed ``paddle.vision.transforms`` per image into a
``paddle.io.DataLoader``. Per image that costs Python transform objects, a Paddle tensor
for ``ToTensor`` and ``Normalize`` and a per-sample collate. This path keeps the pixel work
of the notebooks and drops the per-image overhead:

* geometry and colour ops run per image on uint8 HWC arrays through the SAME cv2 calls
  Paddle's cv2 backend makes (``paddle.vision.transforms.functional``), or through
  vectorised look-up tables that reproduce Paddle's formulas bit for bit; when a batch's
  images share one shape, the leading ops that have ``apply_batch`` (constant-padded
  ``RandomCrop``, flips, brightness/contrast, also inside ``RandomApply``) run on the whole
  uint8 [N, H, W, C] array instead, with the same bytes as the per-image route (tested);
* pointwise colour ops right before a pure crop run on the crop only (``crop_first``),
  which is exact because each pixel is mapped on its own;
* their random parameters are drawn for the whole batch at once with numpy, from the same
  distributions Paddle samples (see each op), seeded per ``(seed, epoch, rank, batch)``;
* the tail ``ToTensor``/``ToArray`` + ``Normalize`` is ONE per-channel 256-entry look-up
  table computed with Paddle's own functions, so the float output is identical to the
  per-image path, applied to the whole batch;
* each batch is written into an output buffer the loader keeps (``buffers``) once no
  tensor uses that buffer any more, instead of fresh memory every step;
* ``num_workers > 0`` builds batches in that many background threads (cv2 and numpy
  release the GIL), in order, ``num_workers + 2`` batches ahead.

Deviations from the per-image ``pipeline: paddle`` path (documented in benchmarks/RESULTS.md):

* Random parameters come from a numpy ``Generator`` rather than Python's ``random`` /
  the global numpy state, so a batched run sees the same *distributions*, not the same draws.
  Given the same parameters, every op returns exactly what Paddle returns (tested).
* Paddle's ``adjust_saturation`` (cv2 backend) ignores the factor's value beyond using it as
  a range: it draws ``alpha ~ U(max(0, 1-f), 1+f)`` from the global numpy RNG. We draw
  that ``alpha`` from the batch generator, the same two-stage distribution.
* Distributed sharding (``sharding.py``): rank ``r`` takes every ``nranks``-th index of the
  epoch's order starting at ``r``, not DistributedBatchSampler's batch interleave. For
  training the order is first padded by repetition to a multiple of the number of ranks
  (equal step counts); evaluation shards are not padded (sizes differ by at most one), so
  eval counts summed over ranks see each test image exactly once.
* Only ``data_format='CHW'`` is supported for ``ToTensor``/``Normalize``; rotation with
  ``expand=True`` is not supported; anything else raises ``BatchedPipelineError``.

Layout: the transform names, their keyword arguments and this pipeline's class for each
(or None: not supported here, use ``pipeline: paddle``) are rows of the one transform table
both pipelines share, ``paddle_repro/data/transform_table.py``, read through
``paddle_repro/data/transform_entries.py``. In this package: ``base`` (error type, shared
helpers), ``geometric`` and ``photometric`` (image ops), ``random_apply``, ``tail``
(ToTensor/ToArray/Normalize), ``crop_first`` (the per-image run order), ``compiler``
(``BatchTransform``), ``sharding`` (per-rank indices), ``buffers`` (reused output memory),
``threads`` (background workers), ``loader`` (``BatchedLoader``, ``build_batched_loader``,
which takes the dataset ``paddle_repro.data.build_loader`` built).

Imports run one way: the op modules need nothing of the table; the transform table imports
them; ``compiler`` and ``loader`` read the table. So this package's face hands on the ops
only (importing the table's readers here would make ``transform_table -> batched ->
compiler -> transform_table`` a cycle): ``BatchTransform`` and ``compile_op`` come from
``batched.compiler``, ``BatchedLoader`` and ``build_batched_loader`` from ``batched.loader``.
"""
from .base import BatchedPipelineError
from .geometric import (Identity, RandomCrop, RandomHorizontalFlip, RandomResizedCrop,
                        RandomRotation, RandomVerticalFlip, Resize)
from .photometric import (BrightnessTransform, ColorJitter, ContrastTransform, HueTransform,
                          SaturationTransform)
from .random_apply import RandomApply
from .sharding import shard_indices, shard_size
from .tail import Normalize, ToArray, ToTensor

__all__ = [
    "BatchedPipelineError", "shard_indices", "shard_size",
    "Identity", "Resize", "RandomResizedCrop", "RandomCrop", "RandomHorizontalFlip",
    "RandomVerticalFlip", "RandomRotation", "BrightnessTransform", "ContrastTransform",
    "SaturationTransform", "HueTransform", "ColorJitter", "RandomApply",
    "ToTensor", "ToArray", "Normalize",
]
