"""The tables and sentences of the convergence_ablation report: what `write` puts in words."""

from __future__ import annotations

from cinit_tf.figures.convergence_ablation import ABLATED, ORIGINAL, RANDOM
from cinit_tf.stats import formatting
from cinit_tf.writeup import common as writeup
from cinit_tf.writeup import health


def interval(x: dict) -> str:
    return f"[{formatting.fmt(x['ci95'][0])}, {formatting.fmt(x['ci95'][1])}]"


def ci_text(s: dict) -> str:
    if not s["n"]:
        return "n/a (no trial converged)"
    return f"{formatting.fmt(s['mean'])} steps (95% CI {interval(s)}, n = {s['n']})"


def deviations(m, paper_seeds: int) -> list[str]:
    n = len(m.original)
    control = (
        f"The `{RANDOM}` arm is ours (the paper has no control): per seed it keeps as many frequencies as the "
        "ablation keeps, drawn uniformly among all K (so it may draw survivors), from the embedding seed; the draw "
        "is stored with the trial. It tells keeping the high-signal frequencies from keeping few of them."
        if m.random
        else f"This run has no `{RANDOM}` arm: the survivors are not told from fewer frequencies."
    )
    return [
        f"{n} seeds here, {paper_seeds} in the paper."
        if n != paper_seeds
        else f"{paper_seeds} seeds, as in the paper.",
        "The keep rule is signal_k > mean + 1 std over the K = ⌊(p−1)/2⌋ frequencies of the initial embedding, "
        "with the population standard deviation (ddof = 0); the paper does not say which standard deviation.",
        'The mean embedding (frequency 0) is kept (keep_zero = true): the paper\'s "remove the rest" does not say '
        "whether the mean is a frequency to remove.",
        control,
        "Mean and confidence interval are over the trials that reached 100% test accuracy within the budget; trials "
        "that never did are counted and reported separately, and pairs with one such trial are left out of the paired "
        "tests and counted. The paper does not say how (or whether) it met trials that never converged.",
        "The paired Wilcoxon signed-rank tests are ours; the paper shows 95% confidence intervals only.",
        *writeup.paper_setting_deviations(m.valid),
        *writeup.common_deviations(m.valid),
        writeup.STATISTICS_NOTE,
    ]


def paired_line(paired: dict, other: str, test: str) -> str:
    return (
        f"Ablated against {other}: {paired['pairs']} seeds; both converged {paired['both_converged']}, only the "
        f"{other} {paired[f'only_{other}_converged']}, only the ablated {paired['only_ablated_converged']}, neither "
        f"{paired['neither_converged']}. Where both converged, the ablated embedding was faster in "
        f"{paired['ablated_faster']}, slower in {paired['ablated_slower']}, tied in {paired['ties']}; median paired "
        f"difference {formatting.fmt(paired['median_difference'])} steps, mean {formatting.fmt(paired['mean_difference'])} "
        f"({test} Wilcoxon W = {formatting.fmt(paired['statistic'])}, {formatting.fmt_p(paired['p'])})."
    )


def findings(m) -> list[str]:
    arms, o, a = m.arms, m.arms[ORIGINAL], m.arms[ABLATED]

    def row(name, cell):
        return [name, *(cell(arm) for arm in arms.values())]

    lines = [
        formatting.md_table(
            ["", *arms],
            [
                row("trials", lambda x: x["n"]),
                row("reached 100% test accuracy", lambda x: x["n"] - x["never"]),
                row(
                    "never within the budget",
                    lambda x: f"{x['never']} ({formatting.fmt(100 * x['never_fraction'])}%)",
                ),
                row("mean steps (converged)", lambda x: x["stats"]["mean"]),
                row("95% CI", lambda x: interval(x["stats"])),
                row("std", lambda x: x["stats"]["std"]),
                row("median steps", lambda x: x["median"]),
                row("frequencies in the initial embedding (mean)", lambda x: x["kept"]["mean"]),
            ],
        ),
        paired_line(m.paired, ORIGINAL, "two-sided"),
        f"The ablation kept {formatting.fmt(a['kept']['mean'])} frequencies on average (95% CI {interval(a['kept'])}) of "
        f"{formatting.fmt(o['kept']['mean'])}.",
    ]
    if RANDOM in arms:
        k, ov = m.kept_match, m.kept_match["overlap"]
        lines += [
            paired_line(m.paired_random, RANDOM, "one-sided (ablated faster)"),
            f"The random arm held as many frequencies as the ablated one in {k['same_count']} of {k['n']} seeds; "
            f"its draw included {formatting.fmt(ov['mean'])} survivors on average (95% CI {interval(ov)}, n = {ov['n']} seeds "
            "with a stored choice).",
        ]
    return lines + health.health_findings(m.trials, convergence_matters=False)


def numbers(m) -> tuple[str, str]:
    """(our number, the short one) for the report."""
    o, a, paired, budget = m.arms[ORIGINAL], m.arms[ABLATED], m.paired, m.budget
    our = (
        f"steps to 100% test accuracy: original {ci_text(o['stats'])}, ablated {ci_text(a['stats'])} "
        f"(ablated/original mean {formatting.fmt(m.ratio)}); paired Wilcoxon {formatting.fmt_p(paired['p'])} over {paired['both_converged']} "
        f"pairs; never converged within {budget} steps: original {o['never']}/{o['n']}, ablated {a['never']}/{a['n']}"
    )
    short = (
        f"{formatting.fmt(o['stats']['mean'])} → {formatting.fmt(a['stats']['mean'])} steps (×{formatting.fmt(m.ratio, 2)}), "
        f"Wilcoxon {formatting.fmt_p(paired['p'])}, n = {paired['both_converged']} pairs"
    )
    if RANDOM in m.arms:
        r, pr = m.arms[RANDOM], m.paired_random
        our += (
            f"; as many random frequencies: {ci_text(r['stats'])}, never {r['never']}/{r['n']}; ablated − random "
            f"mean {formatting.fmt(m.difference_random['mean'])} steps, one-sided Wilcoxon {formatting.fmt_p(pr['p'])} over "
            f"{pr['both_converged']} seeds"
        )
        short += f"; random {formatting.fmt(r['stats']['mean'])} steps, survivors vs random {formatting.fmt_p(pr['p'])}"
    return our, short
