"""results.json from the verdicts run_autograder wrote (one test per case, 1 point each)."""

import json
import sys
from pathlib import Path

build, target = Path(sys.argv[1]), Path(sys.argv[2])
cases = sorted(p.stem for p in Path("/autograder/source/cases").glob("*.in"))
verdicts = dict(
    line.split("\t") for line in (build / "verdicts.tsv").read_text().splitlines() if line
)
tests = []
for case in cases:
    passed = verdicts.get(case) == "passed"
    diff = build / "got" / f"{case}.diff"
    output = "" if passed or not diff.exists() else diff.read_text(errors="replace")
    if case not in verdicts:
        output = "not run: the program did not build\n" + (build / "make.log").read_text()
    tests.append(
        {"name": f"case {case}", "score": 1 if passed else 0, "max_score": 1, "output": output}
    )
target.write_text(json.dumps({"tests": tests}))
