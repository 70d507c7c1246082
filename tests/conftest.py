import pytest

# TensorFlow first, quietly: test modules import it, and its start-up lines would fill the output.
import cinit_tf.framework  # noqa: E402,F401


def _gpus():
    from cinit_tf.framework import tf  # quietly: the first device lookup prints CUDA lines

    return tf.config.list_physical_devices("GPU")


def pytest_collection_modifyitems(config, items):
    gpu_items = [item for item in items if "gpu" in item.keywords]
    if gpu_items and not _gpus():
        skip = pytest.mark.skip(
            reason="no GPU visible to TensorFlow: the gpu suite runs only where one is"
        )
        for item in gpu_items:
            item.add_marker(skip)
