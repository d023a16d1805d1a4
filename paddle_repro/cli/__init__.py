"""The command-line tools: one module per tool, each with ``main(argv=None) -> exit code``.

``paddle_repro/cli/<tool>.py`` holds the code of ``tools/<tool>.py`` and of the installed
command ``paddle-repro-<tool>`` (underscores become dashes: ``export_model`` is
``paddle-repro-export-model``), declared as ``console_scripts`` in ``setup.py``. The files in
``tools/`` only import and call ``main``, so ``python tools/train.py -c ...`` keeps working
from a checkout once the package is installed (``pip install -e .``).

Shared plumbing: ``args.py`` (``-c`` / ``-o`` parsing) and ``runner.py`` (``run``: the process
set-up and the one place where a failure becomes a message and an exit code).
"""
