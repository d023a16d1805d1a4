"""What the tables' FLOPs column counts: the note printed under every table that shows it.

The numbers themselves are counted with the trained model by
``paddle_repro.inference.run_outputs`` (``paddle_repro.models.summary.count_flops``) and
read here from each run's ``report_extra.json``.
"""

NOTE = ("FLOPs = multiply-accumulates for one image by paddle.flops' conventions: Conv/Linear/"
        "matmul MACs (+1 per output with bias), 2 per BatchNorm element, average pooling; "
        "activations, softmax and element-wise ops 0. CondConv2D (routing, kernel mixing, "
        "per-sample conv), ACmix (1x1 projections, windowed q.k and attn.v, shift conv) and "
        "NAM (its BatchNorms) are counted whole by paddle_repro.models.summary.CUSTOM_FLOPS, "
        "the same for every impl.")
