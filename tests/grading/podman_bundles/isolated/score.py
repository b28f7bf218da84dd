"""The grader's verdict on the student's program: it ran (status 0) and it printed 42."""

import json
import sys

status, target = int(sys.argv[1]), sys.argv[3]
with open(sys.argv[2]) as f:
    printed = f.read().strip()
tests = [
    {"name": "runs", "score": 1 if status == 0 else 0, "max_score": 1},
    {
        "name": "answer",
        "score": 1 if printed == "42" else 0,
        "max_score": 1,
        "output": f"printed {printed!r}",
    },
]
with open(target, "w") as f:
    json.dump({"tests": tests}, f)
