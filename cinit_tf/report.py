"""Generate the report of a finished run, or compare a rerun with a published report, from the command line.

    python -m cinit_tf.report runs/freeze_embedding
    python -m cinit_tf.report --compare reports/freeze_embedding runs/freeze_embedding

The report itself is written by `cinit_tf.reporting.generate`; the comparison by `cinit_tf.reporting.compare`.
"""

from __future__ import annotations

import argparse
import sys

from cinit_tf.reporting.compare import CompareError, compare
from cinit_tf.reporting.folders import ReportError
from cinit_tf.reporting.generate import generate_report


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m cinit_tf.report",
        description="Generate the report of a finished run, or compare a rerun with a published report.",
    )
    ap.add_argument("run_dir", nargs="?", help="run folder, e.g. runs/freeze_embedding")
    ap.add_argument("--reports", default="reports", help="folder of reports (default: reports)")
    ap.add_argument(
        "--replace-report",
        action="store_true",
        help="replace a report even if it was made at a larger profile (smoke < cpu < paper)",
    )
    ap.add_argument(
        "--compare",
        nargs=2,
        metavar=("PUBLISHED", "RERUN"),
        help="check a rerun against a published report claim by claim (report, run or reports folders); "
        "exit 0 when every verdict agrees, 1 when one differs or is missing, 2 on bad input",
    )
    ap.add_argument(
        "--verbose",
        action="store_true",
        help="a study that fails shows its whole traceback instead of one line",
    )
    args = ap.parse_args(argv)
    if args.compare:
        try:
            lines, status = compare(*args.compare)
        except CompareError as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
        print("\n".join(lines))
        return status
    if not args.run_dir:
        ap.error("give a run folder (or --compare PUBLISHED RERUN)")
    try:
        out = generate_report(args.run_dir, args.reports, replace=args.replace_report)
    except ReportError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except (
        OSError
    ) as e:  # a full disk, a folder that cannot be written: the run's trials are untouched
        print(
            f"error: the report of {args.run_dir} failed ({e}); the run's trials are untouched, and the same "
            "command retries it",
            file=sys.stderr,
        )
        return 1
    except (
        Exception
    ) as e:  # a fault of the code (a study's, most often): one line, the traceback on request
        if args.verbose:
            raise
        print(
            f"error: the report of {args.run_dir} failed while reporting ({type(e).__name__}: {e}); the "
            "run's trials are untouched; --verbose shows the traceback",
            file=sys.stderr,
        )
        return 1
    print(f"report in {out / 'README.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
