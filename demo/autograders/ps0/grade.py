"""PS0's autograder: softmax and a matrix product on lists (the student's solution.py).

Run as ``grade.py SUBMISSION_DIR RESULTS_JSON``. Each test is worth its points, all or nothing,
and is named after the question it would feed ("q1 ...", "q2 ..."); PS0 has no questions, so
its whole score is the assignment's. The harness (``result``, ``expect``) is the same in every
demo bundle, a bundle being one self-contained folder.
"""

import json
import math
import sys


def result(name, points, check, visibility="visible"):
    """Runs one check, worth ``points`` all or nothing, as a Gradescope test."""
    try:
        check()
        score, output = points, "passed"
    except Exception as exc:  # the student's code may raise anything
        score, output = 0, f"{type(exc).__name__}: {exc}"
    return dict(name=name, score=score, max_score=points, visibility=visibility, output=output)


def expect(got, want):
    """Numbers, or nested lists of them, equal within 1e-6."""
    if not _close(got, want):
        raise AssertionError(f"expected {want!r}, got {got!r}")


def _close(got, want):
    if isinstance(want, list):
        return (
            isinstance(got, list | tuple) and len(got) == len(want) and all(map(_close, got, want))
        )
    return isinstance(got, int | float) and math.isclose(got, want, abs_tol=1e-6)


def _softmax_sums_to_one():
    from solution import softmax

    expect(sum(softmax([1.0, 2.0, 3.0])), 1.0)
    expect(softmax([0.0, math.log(3.0)]), [0.25, 0.75])


def _softmax_is_stable():
    from solution import softmax

    expect(softmax([1000.0, 1000.0]), [0.5, 0.5])
    expect(softmax([-1000.0, 0.0]), [0.0, 1.0])


def _matmul():
    from solution import matmul

    expect(matmul([[1, 2], [3, 4]], [[5], [6]]), [[17], [39]])


TESTS = [
    ("q1 softmax sums to one", 40, _softmax_sums_to_one),
    ("q2 softmax is stable on large inputs", 30, _softmax_is_stable),
    ("q3 matmul multiplies two small matrices", 30, _matmul, "after_published"),
]


if __name__ == "__main__":
    sys.dont_write_bytecode = True
    sys.path.insert(0, sys.argv[1])  # the student's files
    with open(sys.argv[2], "w") as out:
        json.dump({"tests": [result(*t) for t in TESTS]}, out, indent=2)
