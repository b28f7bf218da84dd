"""Imports the student's solution, checks answer() == 42 and writes results.json."""

import json
import sys

sys.path.insert(0, "/autograder/submission")
tests = [
    {"name": "runs", "score": 0, "max_score": 1},
    {"name": "answer", "score": 0, "max_score": 1},
]
try:
    import solution

    tests[0]["score"] = 1
    tests[1]["score"] = 1 if solution.answer() == 42 else 0
except Exception as exc:  # any failure of the student's code scores 0
    print(f"solution failed: {exc!r}")
with open("/autograder/results/results.json", "w") as f:
    json.dump({"tests": tests}, f)
print("grader wrote results.json")
