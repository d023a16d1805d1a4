"""Crop before pointwise colour ops: the same bytes from fewer pixels.

Part of ``paddle_repro.data.batched``. A pointwise op (brightness, contrast, saturation, hue,
``ColorJitter``, ``MixupImage``'s identity) maps every pixel on its own, with parameters that
do not depend on the image, so ``op(img)[box] == op(img[box])`` byte for byte. When such ops
come right before a pure crop (``RandomResizedCrop``'s crop, ``RandomCrop`` without padding),
the per-image route crops first and runs them on the crop only. The ACmix recipe
(``Resize(130)``, ``ColorJitter``, ``RandomResizedCrop(128, scale 0.6-1)``) so jitters ~78%
of the pixels on average. Parameters are still drawn in the config's order (``sample`` is
unchanged); only where the pixel work happens moves. Tested against the literal order.
"""


def is_pointwise(op):
    """True when ``op.apply`` maps each pixel independently of all others and of the
    image's size (the op says so with ``pointwise = True``)."""
    return bool(getattr(op, "pointwise", False))


def crop_parts(op):
    """(crop, finish) callables ``(img, p) -> img`` splitting ``op.apply`` into a pure crop
    and what follows it (finish None: nothing), or None when ``op`` is not a crop that
    pointwise ops commute with."""
    split = getattr(op, "crop_parts", None)
    return split() if split is not None else None


def plan(steps):
    """[(op, params)] -> [(apply, params)]: ``apply(img, p)`` callables in the order to run.

    Each run of pointwise ops directly before a crop becomes crop, the run, then the crop's
    remainder (e.g. ``RandomResizedCrop``'s resize). Everything else keeps its place.
    """
    out, run = [], []
    for op, params in steps:
        if is_pointwise(op):
            run.append((op.apply, params))
            continue
        parts = crop_parts(op) if run else None
        if parts is not None:
            crop, finish = parts
            out += [(crop, params)] + run + ([(finish, params)] if finish else [])
        else:
            out += run + [(op.apply, params)]
        run = []
    return out + run
