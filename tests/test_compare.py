"""A rerun checked against a published report claim by claim: constructed pairs with known answers."""

import json

from cinit_tf.report import main


def claim(name, verdict, value=None, ci=None):
    out = {"name": name, "verdict": verdict, "detail": "numbers"}
    if value is not None:
        out.update(value=value, ci=ci)
    return out


def report(folder, name, claims):
    folder.mkdir(parents=True)
    (folder / "summary.json").write_text(
        json.dumps({"name": name, "verdict": "reproduced", "claims": claims})
    )
    return folder


PUBLISHED = [
    claim("rank", "partly", 15.4, [12.0, 18.8]),
    claim("shape", "not reproduced", -0.16, [-0.25, -0.06]),
    claim("exists", "reproduced"),
]


def test_identical_reports_agree(tmp_path, capsys):
    a = report(tmp_path / "a" / "x", "x", PUBLISHED)
    b = report(tmp_path / "b" / "x", "x", PUBLISHED)
    assert main(["--compare", str(a), str(b)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == (
        "x: rank: same (partly / partly); published 15.4 [12, 18.8], rerun 15.4 [12, 18.8]; "
        "rerun in published CI: yes, published in rerun CI: yes"
    )
    assert out[2] == "x: exists: same (reproduced / reproduced)"  # no number: verdicts only
    assert out[-1] == "3 claims: 3 agree, 0 differ or are missing on one side"


def test_numbers_moved_within_their_intervals_still_agree(tmp_path, capsys):
    moved = [
        claim("rank", "partly", 16.0, [12.6, 19.4]),
        claim("shape", "not reproduced", -0.30, [-0.40, -0.20]),
        claim("exists", "reproduced"),
    ]
    a, b = report(tmp_path / "a", "x", PUBLISHED), report(tmp_path / "b", "x", moved)
    assert main(["--compare", str(a), str(b)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].endswith("rerun in published CI: yes, published in rerun CI: yes")
    assert out[1].endswith(
        "rerun in published CI: no, published in rerun CI: no"
    )  # -0.30 vs [-0.25, -0.06]; -0.16 vs [-0.40, -0.20]


def test_a_flipped_verdict_fails(tmp_path, capsys):
    flipped = [dict(PUBLISHED[0], verdict="reproduced"), *PUBLISHED[1:]]
    a, b = report(tmp_path / "a", "x", PUBLISHED), report(tmp_path / "b", "x", flipped)
    assert main(["--compare", str(a), str(b)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("x: rank: DIFFERS (partly / reproduced)")
    assert out[-1] == "3 claims: 2 agree, 1 differ or are missing on one side"


def test_a_claim_missing_on_one_side_fails(tmp_path, capsys):
    a, b = (
        report(tmp_path / "a", "x", PUBLISHED),
        report(tmp_path / "b", "x", PUBLISHED[:2] + [claim("new", "partly")]),
    )
    assert main(["--compare", str(a), str(b)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert (
        "x: exists: DIFFERS (reproduced / missing)" in out
        and "x: new: DIFFERS (missing / partly)" in out
    )


def test_folders_of_reports_compare_section_by_section(tmp_path, capsys):
    report(tmp_path / "a" / "x", "x", PUBLISHED)
    report(tmp_path / "a" / "y", "y", [claim("trend", "reproduced", 0.8, [0.7, 0.9])])
    report(tmp_path / "b" / "x", "x", PUBLISHED)
    assert (
        main(["--compare", str(tmp_path / "a"), str(tmp_path / "b")]) == 1
    )  # section y is missing from the rerun
    assert "y: trend: DIFFERS (reproduced / missing)" in capsys.readouterr().out


def test_bad_input_exits_2_naming_the_folder(tmp_path, capsys):
    a = report(tmp_path / "a", "x", PUBLISHED)
    assert main(["--compare", str(a), str(tmp_path / "nothing")]) == 2
    assert "nothing: no such folder" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert main(["--compare", str(a), str(tmp_path / "empty")]) == 2
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "summary.json").write_text("{not json")
    assert main(["--compare", str(a), str(bad)]) == 2
    assert "bad/summary.json: not readable JSON" in capsys.readouterr().err


def test_a_run_folder_is_reported_then_compared(tmp_path, capsys):
    from test_report import make_run

    from cinit_tf.reporting.generate import generate_report

    run = make_run(tmp_path / "runs")
    published = generate_report(run, tmp_path / "reports")
    assert main(["--compare", str(published), str(run)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-1].startswith(
        f"{len(json.loads((published / 'summary.json').read_text())['claims'])} claims:"
    )
    assert all(": same (" in line for line in out[:-1])


def _compare_error(tmp_path, capsys, rerun_claims, published=PUBLISHED, rerun_name="x"):
    a = report(tmp_path / "a", "x", published)
    b = report(tmp_path / "b", rerun_name, rerun_claims)
    status = main(["--compare", str(a), str(b)])
    captured = capsys.readouterr()
    return status, captured.err, captured.out


def test_malformed_claims_exit_2_naming_file_and_claim(tmp_path, capsys):
    cases = [
        (["not an object"], "claims[0]: expected an object"),
        ([{"name": "rank", "detail": "d"}], "claims[0]: missing key 'verdict'"),
        ([{"verdict": "partly"}], "claims[0]: missing key 'name'"),
        (
            [{"name": ["rank"], "verdict": "partly"}],
            "claims[0]: name is ['rank']; expected a non-empty",
        ),
        ([{"name": "", "verdict": "partly"}], "name is ''"),
        ([claim("rank", "banana")], "verdict 'banana' is not one of reproduced, partly"),
        ([claim("rank", "partly"), claim("rank", "reproduced")], "claims[1]: name 'rank' repeats"),
        ([claim("rank", "partly", "16", [1, 2])], "value '16' is not a number or null"),
        ([claim("rank", "partly", 16.0, [1])], "ci [1] is not null or a list of two numbers"),
        ([claim("rank", "partly", True, [1, 2])], "value True is not a number"),
    ]
    for i, (claims, expected) in enumerate(cases):
        status, err, out = _compare_error(tmp_path / str(i), capsys, claims)
        assert status == 2, (claims, err)
        assert "Traceback" not in err and out == ""
        assert f"b{'/'}summary.json: " in err and expected in err, (expected, err)
        assert len(err.strip().splitlines()) == 1


def test_extra_keys_and_null_numbers_are_accepted(tmp_path, capsys):
    extended = [
        dict(
            claim("rank", "partly", None),
            kind="two-sample",
            n=100,
            p=0.007,
            margin=None,
            ci=None,
            reason="r",
        ),
        dict(claim("shape", "not reproduced", -0.16, [None, -0.06]), future={"nested": [1]}),
        claim("exists", "reproduced"),
    ]
    status, err, out = _compare_error(tmp_path, capsys, extended)
    assert (status, err) == (0, "")
    assert (
        out.splitlines()[0]
        == "x: rank: same (partly / partly, r); published 15.4 [12, 18.8], rerun –; "
        "rerun in published CI: n/a, published in rerun CI: n/a"
    )


def test_reason_codes_and_margins_are_compared(tmp_path, capsys):
    published = [
        dict(claim("rise", "not assessable", 0.02, [-0.09, 0.13]), margin=0.1, reason="too_wide")
    ]
    same_rule = [
        dict(
            claim("rise", "not reproduced", 0.01, [-0.05, 0.07]),
            margin=0.1,
            reason="rules_out_margin",
        )
    ]
    status, err, out = _compare_error(tmp_path / "a", capsys, same_rule, published=published)
    assert (
        status == 1
        and "DIFFERS (not assessable, too wide / not reproduced, rules out margin)" in out
    )
    assert "margins differ" not in out
    other_rule = [
        dict(claim("rise", "not assessable", 0.02, [-0.09, 0.13]), margin=0.3, reason="too_wide")
    ]
    status, err, out = _compare_error(tmp_path / "b", capsys, other_rule, published=published)
    assert status == 0 and "margins differ (0.1 / 0.3): the rule or its scale changed" in out
    no_margin = [claim("rise", "not assessable", 0.02, [-0.09, 0.13])]
    status, err, out = _compare_error(tmp_path / "c", capsys, no_margin, published=published)
    assert status == 0 and "a margin on one side only" in out


def test_nothing_to_compare_exits_2(tmp_path, capsys):
    status, err, _ = _compare_error(tmp_path / "empty", capsys, [], published=[])
    assert status == 2 and "'claims' is empty" in err
    status, err, _ = _compare_error(tmp_path / "one", capsys, [], published=PUBLISHED)
    assert status == 2 and "b/summary.json: 'claims' is empty" in err


def test_two_different_sections_exit_2(tmp_path, capsys):
    status, err, out = _compare_error(tmp_path / "names", capsys, PUBLISHED, rerun_name="y")
    assert status == 2 and out == ""
    assert "no section in common" in err and "holds x" in err and "holds y" in err
    a = tmp_path / "studies" / "a"
    a.mkdir(parents=True)
    (a / "summary.json").write_text(
        json.dumps({"name": "x", "study": "xor_rank", "claims": PUBLISHED})
    )
    b = tmp_path / "studies" / "b"
    b.mkdir()
    (b / "summary.json").write_text(
        json.dumps({"name": "x", "study": "remainder_rank", "claims": PUBLISHED})
    )
    assert main(["--compare", str(a), str(b)]) == 2
    assert "section 'x' is study 'xor_rank'" in capsys.readouterr().err


def test_a_section_twice_in_a_folder_of_reports_exits_2(tmp_path, capsys):
    report(tmp_path / "a" / "x", "x", PUBLISHED)
    report(tmp_path / "a" / "x2", "x", PUBLISHED)
    report(tmp_path / "b" / "x", "x", PUBLISHED)
    assert main(["--compare", str(tmp_path / "a"), str(tmp_path / "b")]) == 2
    assert "are both section 'x'" in capsys.readouterr().err


def test_a_summary_that_is_not_a_regular_file_exits_2(tmp_path, capsys):
    import os

    report(tmp_path / "a" / "x", "x", PUBLISHED)
    (tmp_path / "b" / "x").mkdir(parents=True)
    os.mkfifo(tmp_path / "b" / "x" / "summary.json")
    assert main(["--compare", str(tmp_path / "a"), str(tmp_path / "b")]) == 2
    assert "not a regular file" in capsys.readouterr().err


def test_a_claim_the_study_renamed_is_compared_with_its_former_name(tmp_path, capsys):
    from cinit_tf.studies import declaration

    renamed = declaration("winning_tickets").former_names
    new, old = next(iter(renamed.items()))
    sides = {}
    for side, name in (("a", old), ("b", new)):
        folder = tmp_path / side / "winning_tickets"
        folder.mkdir(parents=True)
        body = {"name": "winning_tickets", "study": "winning_tickets", "verdict": "partly"}
        body["claims"] = [claim(name, "reproduced", 2.0, [1.0, 3.0]), claim("same", "partly")]
        (folder / "summary.json").write_text(json.dumps(body))
        sides[side] = folder
    assert main(["--compare", str(sides["a"]), str(sides["b"])]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"winning_tickets: {new}: same (reproduced / reproduced)")
    assert out[-1] == "2 claims: 2 agree, 0 differ or are missing on one side"
