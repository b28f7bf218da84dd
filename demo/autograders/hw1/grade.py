"""HW1's autograder: a linear layer, its gradients and ReLU on lists (the student's layers.py).

Run as ``grade.py SUBMISSION_DIR RESULTS_JSON``. Each test is worth its points, all or nothing,
and is named after the question it feeds: "q1 ..." the linear layer, "q2 ..." backpropagation,
"ec1 ..." ReLU. The harness (``result``, ``expect``) is the same in every demo bundle, a bundle
being one self-contained folder.
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


X = [[1.0, 2.0], [3.0, -1.0]]  # a batch of two rows, two features
W = [[1.0, 0.0, -1.0], [2.0, 1.0, 0.5]]  # two features in, three out
B = [0.5, -0.5, 0.0]
DOUT = [[1.0, 0.0, 2.0], [-1.0, 1.0, 1.0]]  # the upstream gradient


def _linear_forward_row():
    from layers import linear_forward

    expect(linear_forward([[1.0, 2.0]], [[1.0], [1.0]], [0.5]), [[3.5]])


def _linear_forward_batch():
    from layers import linear_forward

    expect(linear_forward(X, W, B), [[5.5, 1.5, 0.0], [1.5, -1.5, -3.5]])


def _grad_input():
    from layers import linear_backward

    dx, _, _ = linear_backward(DOUT, X, W)
    expect(dx, [[-1.0, 3.0], [-2.0, -0.5]])


def _grad_weights():
    from layers import linear_backward

    _, dw, _ = linear_backward(DOUT, X, W)
    expect(dw, [[-2.0, 3.0, 5.0], [3.0, -1.0, 3.0]])


def _grad_bias():
    from layers import linear_backward

    _, _, db = linear_backward(DOUT, X, W)
    expect(db, [0.0, 1.0, 3.0])


def _relu_forward():
    from layers import relu_forward

    expect(relu_forward([[-1.0, 2.0], [0.0, -0.5]]), [[0.0, 2.0], [0.0, 0.0]])


def _relu_backward():
    from layers import relu_backward

    expect(
        relu_backward([[3.0, 4.0], [5.0, 6.0]], [[-1.0, 2.0], [0.5, -0.5]]), [[0, 4.0], [5.0, 0]]
    )


TESTS = [
    ("q1 linear forward on one row", 15, _linear_forward_row),
    ("q1 linear forward on a batch", 20, _linear_forward_batch),
    ("q2 gradient of the input", 10, _grad_input),
    ("q2 gradient of the weights", 15, _grad_weights),
    ("q2 gradient of the bias", 10, _grad_bias),
    ("ec1 relu forward", 5, _relu_forward),
    ("ec1 relu backward", 5, _relu_backward),
]


if __name__ == "__main__":
    sys.dont_write_bytecode = True
    sys.path.insert(0, sys.argv[1])  # the student's files
    with open(sys.argv[2], "w") as out:
        json.dump({"tests": [result(*t) for t in TESTS]}, out, indent=2)
