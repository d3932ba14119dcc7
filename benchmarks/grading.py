"""Grading speed: N copies of a homework's answer key graded with -j 1 and -j 2, against bare nbclient.

    python benchmarks/grading.py [--homework hw3] [--copies 50] [--bare 5] [--out build/bench]
    (`make bench` runs it with the defaults; BENCH_ARGS="--copies 10" for a quick look.)

Measured, and written to OUT/results.json:
- bare: the key executed by a plain nbclient NotebookClient (fresh kernel, the grader's environment; tests in
  the kernel; no sandbox, no trusted runner, no feedback), one after another; runs are interleaved with the grading runs
  (before, between, after) so a change in the machine's load shows up as spread rather than as bias;
- grade -j 1 and -j 2: `python -m autograder grade` on the N copies (each in the full sandbox, tests on the
  trusted side, feedback, gradebook merge; the CSV and the feedback files are counted). Per submission: the
  median time a worker spent on one submission (steady state), and the batch's wall time divided by N
  (everything, the one-off nbgrader generate_assignment included);
- overhead = median per-submission grading time with -j 1 / median bare execution (target <= 1.3);
- speed-up = throughput with -j 2 / with -j 1, from the wall times of the grading phase (target >= 1.7).
The load average (`os.getloadavg`) is recorded next to each phase: on a shared machine it explains noise.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from autograder.course import cells as nbu  # noqa: E402
from autograder.course.paths import BUILD, tool_env  # noqa: E402
from autograder.course.spec import select  # noqa: E402
from autograder.grading.results import Result  # noqa: E402


def load() -> str:
    return "{:.1f} {:.1f} {:.1f}".format(*os.getloadavg())


def cpu_seconds() -> float:
    """CPU time of this process and of its finished children (kernels, workers): unlike wall time, it does not
    depend on how busy the machine is."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def bare_run(spec) -> tuple[float, float]:
    """(wall, CPU) seconds to execute the key with plain nbclient, kernel start included (as under grading)."""
    from nbclient import NotebookClient

    nb = nbu.read(spec.source_notebook)
    env = tool_env(NBGRADER_EXECUTION="autograde")  # the same short path and environment as under grading
    with tempfile.TemporaryDirectory() as work:
        start, cpu = time.monotonic(), cpu_seconds()
        client = NotebookClient(
            nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": work}}, allow_errors=True
        )
        client.execute(env=env)
        return time.monotonic() - start, cpu_seconds() - cpu


def bare_phase(spec, n: int, log) -> list[tuple[float, float]]:
    runs = []
    for i in range(n):
        runs.append(bare_run(spec))
        log(f"  bare {i + 1}/{n}: {runs[-1][0]:.1f} s, {runs[-1][1]:.1f} CPU s (load {load()})")
    return runs


def grade_phase(spec, folder: Path, out: Path, jobs: int, log) -> dict:
    """`python -m autograder grade` as an instructor runs it; per-submission times from OUT/results."""
    shutil.rmtree(out, ignore_errors=True)
    before = load()
    cmd = [
        sys.executable,
        "-m",
        "autograder",
        "grade",
        spec.id,
        str(folder),
        "-j",
        str(jobs),
        "-o",
        str(out / "out"),
        "--db",
        f"sqlite:///{out / 'gb.db'}",
        "--force",
        "--no-progress",
    ]
    start, cpu = time.monotonic(), cpu_seconds()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    wall, cpu = time.monotonic() - start, cpu_seconds() - cpu
    log(proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else proc.stderr[-2000:])
    if proc.returncode != 0:
        raise SystemExit(f"grading failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
    prepare = float(re.search(r"assignment prepared in (\d+) s", proc.stdout).group(1))
    results = [Result.from_dict(json.loads(p.read_text())) for p in (out / "out" / "results").glob("*.json")]
    feedback = list((out / "out" / "feedback").glob(f"*/{spec.id}.html"))
    rows = (out / "out" / "grades.csv").read_text().splitlines()[1:]
    per = [r.seconds for r in results]
    full = [r for r in results if r.score == spec.autograded_total and not r.flags]
    grading_wall = wall - prepare
    return {
        "jobs": jobs,
        "submissions": len(per),
        "csv_rows": len(rows),
        "feedback_files": len(feedback),
        "full_marks": len(full),
        "wall_seconds": round(wall, 1),
        "prepare_seconds": prepare,
        "grading_seconds": round(grading_wall, 1),
        "median_submission_seconds": round(statistics.median(per), 2),
        "wall_per_submission": round(wall / len(per), 2),
        "cpu_seconds": round(cpu, 1),
        "cpu_per_submission": round(cpu / len(per), 2),
        "throughput_per_minute": round(60 * len(per) / grading_wall, 2),
        "load_before": before,
        "load_after": load(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--homework", default="hw3")
    parser.add_argument("--copies", type=int, default=50)
    parser.add_argument("--bare", type=int, default=5, help="bare runs in each of the three bare phases")
    parser.add_argument("--out", type=Path, default=BUILD / "bench")
    args = parser.parse_args()
    [spec] = select([args.homework])
    log = print
    folder = args.out / "submissions"
    shutil.rmtree(folder, ignore_errors=True)
    for i in range(args.copies):
        (folder / f"student-{i:02d}").mkdir(parents=True)
        shutil.copy(spec.source_notebook, folder / f"student-{i:02d}" / spec.notebook)
    log(f"{args.copies} copies of the {spec.id} key in {folder}; {os.cpu_count()} cores; load {load()}")

    log("bare nbclient, phase 1")
    bare = bare_phase(spec, args.bare, log)
    log("grade -j 1")
    j1 = grade_phase(spec, folder, args.out / "j1", 1, log)
    log(json.dumps(j1))
    log("bare nbclient, phase 2")
    bare += bare_phase(spec, args.bare, log)
    log("grade -j 2")
    j2 = grade_phase(spec, folder, args.out / "j2", 2, log)
    log(json.dumps(j2))
    log("bare nbclient, phase 3")
    bare += bare_phase(spec, args.bare, log)

    bare_median = statistics.median(b[0] for b in bare)
    bare_cpu = statistics.median(b[1] for b in bare)
    overhead = j1["median_submission_seconds"] / bare_median
    speedup = j2["throughput_per_minute"] / j1["throughput_per_minute"]
    results = {
        "homework": spec.id,
        "copies": args.copies,
        "cores": os.cpu_count(),
        "bare_seconds": [round(b[0], 2) for b in bare],
        "bare_median_seconds": round(bare_median, 2),
        "bare_median_cpu_seconds": round(bare_cpu, 2),
        "j1": j1,
        "j2": j2,
        "overhead_vs_bare": round(overhead, 2),
        "overhead_target": 1.3,
        # CPU per graded submission (the one-off preparation included) against CPU per bare execution
        "cpu_overhead_vs_bare": round(j1["cpu_per_submission"] / bare_cpu, 2),
        "speedup_j2_vs_j1": round(speedup, 2),
        "speedup_target": 1.7,
    }
    (args.out / "results.json").write_text(json.dumps(results, indent=1))
    log("")
    walls = [b[0] for b in bare]
    log(
        f"bare nbclient, median of {len(bare)}: {bare_median:.2f} s (min {min(walls):.2f}, max {max(walls):.2f}), "
        f"{bare_cpu:.2f} CPU s"
    )
    for run in (j1, j2):
        log(
            f"grade -j {run['jobs']}: median {run['median_submission_seconds']:.2f} s per submission in a worker; "
            f"{run['wall_per_submission']:.2f} s of wall time per submission; {run['throughput_per_minute']:.1f} "
            f"per minute; {run['full_marks']}/{run['submissions']} full marks, {run['csv_rows']} CSV rows, "
            f"{run['feedback_files']} feedback files; {run['cpu_per_submission']:.2f} CPU s per submission; "
            f"load {run['load_before']} -> "
            f"{run['load_after']}"
        )
    log(
        f"overhead (grade -j 1 per submission / bare): {overhead:.2f}x  (target <= 1.3): "
        f"{'met' if overhead <= 1.3 else 'NOT met'}"
    )
    log(f"CPU per graded submission / CPU per bare run: {results['cpu_overhead_vs_bare']:.2f}x")
    log(f"speed-up (-j 2 / -j 1 throughput): {speedup:.2f}x  (target >= 1.7): {'met' if speedup >= 1.7 else 'NOT met'}")
    log(f"results: {args.out / 'results.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
