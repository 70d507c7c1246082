"""TensorFlow and Keras, imported once and quietly: the engine's only door to the framework.

TensorFlow 2.21 prints start-up lines from C++ (absl's "before InitializeLog" warning, the CUDA
stub, oneDNN and CPU-feature notices, a failed cuInit on machines without a GPU) that neither
TF_CPP_MIN_LOG_LEVEL nor absl's Python logging silences: some are written before its logging is
set up. So the import and the first look at the devices run with file descriptor 2 sent to a
temporary file, which is shown only if the import fails. `set_verbose(True)` (the CLI's
`--verbose`), called before the engine first names `tf` or `keras`, keeps every line.

`tf` and `keras` are attributes looked up on first use (`from cinit_tf.framework import tf` imports
TensorFlow then), so that the caller can choose the verbosity first.
"""

from __future__ import annotations

import os
import sys
import tempfile

_verbose = False
_loaded: tuple | None = None


def set_verbose(verbose: bool) -> None:
    """Keep TensorFlow's own start-up and log lines (they are hidden otherwise); takes effect at the first import."""
    global _verbose
    _verbose = bool(verbose)


def _import_quietly():
    if _verbose:
        import keras
        import tensorflow as tf

        return tf, keras
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as captured:
        os.dup2(captured.fileno(), 2)
        try:
            import keras
            import tensorflow as tf

            tf.config.list_physical_devices()  # device discovery prints its own lines (cuInit)
        except BaseException:
            os.dup2(saved, 2)
            captured.seek(0)
            sys.stderr.write(captured.read().decode("utf-8", "replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)
    import absl.logging

    absl.logging.set_verbosity(absl.logging.ERROR)
    tf.get_logger().setLevel("ERROR")
    return tf, keras


def __getattr__(name: str):
    global _loaded
    if name in ("tf", "keras"):
        if _loaded is None:
            _loaded = _import_quietly()
        return _loaded[0] if name == "tf" else _loaded[1]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def gpu_count() -> int:
    """How many GPUs TensorFlow sees: the one answer to "is there a GPU" for the engine and the memory estimate."""
    return len(__getattr__("tf").config.list_physical_devices("GPU"))
