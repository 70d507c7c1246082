"""One run of the circles-vs-size section (App. D, Fig. 11 and 12) as numbers: its point (p, d, weight decay),
its survivor counts, whether it counts (finite, generalising, a final count) and how its survivor set settled.
What the study's claims, tables, figures and summary share; the study's `run_row` makes it from a stored trial."""

from __future__ import annotations

from dataclasses import dataclass

from cinit_tf.measures import survival


@dataclass(frozen=True)
class CountRun:
    id: str
    p: int
    d: int
    wd: float  # weight decay
    K: int  # frequencies k = 1..K
    valid: bool  # finite and generalising: enters the count claims
    why: str | None  # why not valid
    generalised: bool  # reached 100% test accuracy
    finite: bool
    test_acc: float  # final test accuracy
    convergence_step: int | None
    until: str  # the run's stopping rule (train.until)
    stop_reason: str | None
    counts: dict  # {τ: survivors at τ} for τ of survival.TAUS; each None when the run is not finite
    same_set_late: (
        bool | None
    )  # the same survivor set at 2/3 of its steps (None: checked by its rule, or not finite)
    settled_at: int | None  # the step from which its survivor set is final
    seed: int = 0  # its embedding seed
    loss: str = "standard"  # the cross-entropy it trained with (train.loss)
    train_acc: float = float("nan")  # final training accuracy
    collapse_step: int | None = (
        None  # first measured step with a training pair's standard loss exactly 0
    )

    @property
    def count(self) -> int | None:
        """Survivors at the rule's τ (survival.TAU)."""
        return self.counts[survival.TAU]

    @property
    def final(self) -> bool:
        """The survivor count is final: finite, and trained to a fixed number of steps or settled (not stopped at
        the cap of a rule, where the count may still move)."""
        return self.finite and (self.until == "steps" or self.stop_reason == "settled")

    def setting(self, key: str):
        """The swept setting `key`: "p", "d" or "wd"."""
        if key not in ("p", "d", "wd"):
            raise KeyError(key)
        return getattr(self, key)

    def record(self) -> dict:
        """As summary.json keeps it: every field, the counts as count_<τ>."""
        out = {k: v for k, v in self.__dict__.items() if k != "counts"}
        out.update({f"count_{tau}": c for tau, c in self.counts.items()})
        return out


def point(trial) -> tuple[int, int, float]:
    """A trial's (p, d, weight decay)."""
    s = trial.settings
    return int(s["task"]["p"]), int(s["train"]["d"]), float(s["train"]["weight_decay"])


def split_companions(trials: list) -> tuple[list, list]:
    """(the runs the sweeps read, the standard-loss companions): a run trained with the standard loss at a point
    (p, d, weight decay) where runs with the exact loss were trained too is a companion, kept beside them and in no
    sweep; where a point has standard-loss runs only, they are the sweep's."""
    exact = {point(t) for t in trials if t.loss == "exact"}
    companions = [t for t in trials if t.loss != "exact" and point(t) in exact]
    ids = {t.id for t in companions}
    return [t for t in trials if t.id not in ids], companions
