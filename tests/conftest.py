import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest  # noqa: E402


def _gpus():
    import tensorflow as tf

    return tf.config.list_physical_devices("GPU")


def pytest_collection_modifyitems(config, items):
    gpu_items = [item for item in items if "gpu" in item.keywords]
    if gpu_items and not _gpus():
        skip = pytest.mark.skip(reason="no GPU visible to TensorFlow: the gpu suite runs only where one is")
        for item in gpu_items:
            item.add_marker(skip)
