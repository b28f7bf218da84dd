"""HW5's autograder: tabular Q-learning in pure Python (the student's qlearning.py).

Run as ``grade.py SUBMISSION_DIR RESULTS_JSON``. Each test is worth its points, all or nothing,
and is named after the question it feeds: "q1 ..." the Q-learning update, "q2 ..." the
epsilon-greedy policy, "ec1 ..." double Q-learning. The harness (``result``, ``expect``) is the
same in every demo bundle, a bundle being one self-contained folder.
"""

import json
import math
import random
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


def table():
    """Q-values by state: one value per action."""
    return {"s0": [0.0, 1.0], "s1": [2.0, 4.0]}


def _update():
    from qlearning import q_update

    q = table()
    # target = 1 + 0.9 * max(2, 4) = 4.6; 1.0 + 0.5 * (4.6 - 1.0) = 2.8
    value = q_update(q, "s0", 1, reward=1.0, next_state="s1", done=False, alpha=0.5, gamma=0.9)
    expect([value, q["s0"]], [2.8, [0.0, 2.8]])


def _terminal():
    from qlearning import q_update

    q = table()
    # target = 1 (no next state); 0.0 + 0.5 * (1 - 0.0) = 0.5
    value = q_update(q, "s0", 0, reward=1.0, next_state="s1", done=True, alpha=0.5, gamma=0.9)
    expect([value, q["s0"]], [0.5, [0.5, 1.0]])


def _greedy():
    from qlearning import epsilon_greedy

    rng = random.Random(0)
    expect([epsilon_greedy([0.0, 3.0, 1.0], 0.0, rng) for _ in range(20)], [1] * 20)


def _explore():
    from qlearning import epsilon_greedy

    rng = random.Random(0)
    picked = {epsilon_greedy([0.0, 3.0, 1.0], 1.0, rng) for _ in range(200)}
    expect(sorted(picked), [0, 1, 2])


def _double():
    from qlearning import double_q_update

    qa, qb = table(), {"s0": [0.0, 1.0], "s1": [3.0, 0.0]}
    # qa picks action 1 in s1, qb values it: target = 1 + 0.9 * 0.0 = 1; 1 + 0.5 * (1 - 1) = 1
    value = double_q_update(
        qa, qb, "s0", 1, reward=1.0, next_state="s1", done=False, alpha=0.5, gamma=0.9
    )
    expect([value, qa["s0"], qb["s0"], qb["s1"]], [1.0, [0.0, 1.0], [0.0, 1.0], [3.0, 0.0]])


TESTS = [
    ("q1 q-learning update moves toward the target", 30, _update),
    ("q1 a terminal step does not bootstrap", 30, _terminal),
    ("q2 epsilon 0 picks the best action", 20, _greedy),
    ("q2 epsilon 1 explores every action", 20, _explore),
    ("ec1 double q-learning update", 10, _double),
]


if __name__ == "__main__":
    sys.dont_write_bytecode = True
    sys.path.insert(0, sys.argv[1])  # the student's files
    with open(sys.argv[2], "w") as out:
        json.dump({"tests": [result(*t) for t in TESTS]}, out, indent=2)
