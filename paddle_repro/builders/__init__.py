"""What a config section builds, and the config keys each builder owns.

Not a paper module. ``lr_schedules`` (``Optimizer.lr``), ``optimizers`` (``Optimizer``),
``losses`` (``Loss``) and ``notebook_metrics`` (``Metric.notebook_val``) each hold a registry
whose entries declare their own keys, defaults and range checks (``config_fields.Entry``);
``config_schema`` assembles the schema from them. The datasets' registry is
``data.datasets.DATASETS``. These modules import the config layer's ``config_fields`` only,
never ``config`` or ``engine``: the import graph runs config -> builders -> loop.
"""
