"""Tasks, labels, splits and initial distributions (docs/method.md#tasks, #model)."""

import numpy as np
import pytest
from scipy import stats

from cinit_tf.tasks import make_task
from cinit_tf.trial import Shape, initial_embedding, initial_mlp


def test_labels():
    rem = make_task("remainder", p=20, m=3)
    y = rem.labels().reshape(20, 20)
    assert y[4, 7] == 1 and y[4, 8] == 0 and y[0, 18] == 1 and y[19, 1] == 1
    assert y.sum() == sum(1 for a in range(20) for b in range(20) if a % 3 == b % 3)
    xor = make_task("xor", bits=3)
    assert xor.p == 8 and xor.classes == 8
    assert xor.labels().reshape(8, 8)[5, 3] == 6
    mod = make_task("modadd", p=7)
    assert mod.labels().reshape(7, 7)[5, 4] == 2
    pairs = mod.pairs()
    assert tuple(pairs[5 * 7 + 4]) == (5, 4)


def test_split():
    task = make_task("modadd", p=11)
    train, test = task.split(3, 0.8)
    assert len(train) == round(0.8 * 121) == 97 and len(test) == 24
    assert len(np.intersect1d(train, test)) == 0
    np.testing.assert_array_equal(np.union1d(train, test), np.arange(121))
    again, _ = task.split(3, 0.8)
    np.testing.assert_array_equal(train, again)
    other, _ = task.split(4, 0.8)
    assert not np.array_equal(train, other)


def test_bad_task_parameters():
    with pytest.raises(ValueError, match="m >= 2"):
        make_task("remainder", p=10, m=1)
    with pytest.raises(ValueError, match="unknown task"):
        make_task("division", p=10)


def test_init_distributions():
    shape = Shape(p=200, d=50, width=100, classes=7)
    E = initial_embedding(shape, 0)
    assert abs(E.mean()) < 0.02 and abs(E.std() - 1) < 0.02
    assert stats.kstest(E.ravel(), "norm").pvalue > 1e-3
    w = initial_mlp(shape, 0)
    for key, fan_in in (("w1a", 100), ("w1b", 100), ("b1", 100), ("w2", 100), ("w3", 100)):
        bound = 1 / np.sqrt(fan_in)
        assert np.abs(w[key]).max() <= bound
        assert np.abs(w[key]).max() > 0.9 * bound
    bound = 1 / np.sqrt(100)
    assert stats.kstest(w["w2"].ravel(), "uniform", args=(-bound, 2 * bound)).pvalue > 1e-3
    assert w["w3"].shape == (100, 7) and w["w1a"].shape == (50, 100)
