"""HW4's autograder: a recurrent cell and scaled dot-product attention on lists (the student's
sequence.py), no torch.

Run as ``grade.py SUBMISSION_DIR RESULTS_JSON``. Each test is worth its points, all or nothing,
and is named after the question it feeds: "q1 ..." the RNN cell, "q2 ..." attention, "ec1 ..."
the causal mask. The harness (``result``, ``expect``) is the same in every demo bundle, a
bundle being one self-contained folder.
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


WX = [[0.5, -0.5], [1.0, 0.0]]  # two inputs, two hidden units
WH = [[1.0, 0.0], [0.0, -1.0]]
B = [0.0, 0.5]


def _rnn_zero_state():
    from sequence import rnn_step

    expect(rnn_step([1.0, 1.0], [0.0, 0.0], WX, WH, B), [math.tanh(1.5), math.tanh(0.0)])


def _rnn_state():
    from sequence import rnn_step

    expect(rnn_step([0.0, 1.0], [1.0, 0.5], WX, WH, B), [math.tanh(2.0), math.tanh(0.0)])


def _weights_sum():
    from sequence import attention_weights

    weights = attention_weights([[1.0, 0.0], [0.0, 2.0]], [[1.0, 1.0], [0.0, 1.0], [2.0, 0.0]])
    expect([sum(row) for row in weights], [1.0, 1.0])


def _weights_scaled():
    from sequence import attention_weights

    # Scores 2 and 0 for d = 4: scaled to 1 and 0.
    weights = attention_weights(
        [[1.0, 1.0, 0.0, 0.0]], [[1.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 1.0]]
    )
    expect(weights, [[1 / (1 + math.exp(-1)), 1 / (1 + math.exp(1))]])


def _attention_output():
    from sequence import attention

    out = attention([[0.0]], [[1.0], [2.0]], [[1.0, 0.0], [0.0, 4.0]])
    expect(out, [[0.5, 2.0]])


def _causal():
    from sequence import attention

    out = attention([[1.0], [1.0]], [[1.0], [1.0]], [[2.0], [4.0]], causal=True)
    expect(out, [[2.0], [3.0]])


TESTS = [
    ("q1 rnn step from a zero state", 10, _rnn_zero_state),
    ("q1 rnn step carries the state", 20, _rnn_state),
    ("q2 attention weights sum to one per query", 15, _weights_sum),
    ("q2 attention scores are scaled by the square root of d", 10, _weights_scaled),
    ("q2 attention output mixes the values", 15, _attention_output),
    ("ec1 causal attention ignores later positions", 10, _causal),
]


if __name__ == "__main__":
    sys.dont_write_bytecode = True
    sys.path.insert(0, sys.argv[1])  # the student's files
    with open(sys.argv[2], "w") as out:
        json.dump({"tests": [result(*t) for t in TESTS]}, out, indent=2)
