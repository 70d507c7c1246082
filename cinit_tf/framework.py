"""TensorFlow and Keras, imported once and quietly: the engine's only door to the framework.

TensorFlow 2.21 prints start-up lines from C++ (absl's "before InitializeLog" warning, the CUDA
stub, oneDNN and CPU-feature notices, a failed cuInit on machines without a GPU) that neither
TF_CPP_MIN_LOG_LEVEL nor absl's Python logging silences: some are written before its logging is
set up. So the import and the first look at the devices run with file descriptor 2 sent to a
temporary file, which is shown only if the import fails. `CINIT_TF_VERBOSE=1` (the CLI's
`--verbose`) keeps every line.
"""

from __future__ import annotations

import os
import sys
import tempfile

VERBOSE = os.environ.get("CINIT_TF_VERBOSE", "") not in ("", "0")


def _import_quietly():
    if VERBOSE:
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


tf, keras = _import_quietly()
