"""HW2's autograder: a 2-D convolution and max pooling on lists of lists (the student's conv.py),
one channel, no torch.

Run as ``grade.py SUBMISSION_DIR RESULTS_JSON``. Each test is worth its points, all or nothing,
and is named after the question it feeds: "q1 ..." convolution, "q2 ..." pooling, "ec1 ..."
zero padding. The harness (``result``, ``expect``) is the same in every demo bundle, a bundle
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


IMAGE = [[1, 2, 3, 0], [0, 1, 2, 3], [3, 0, 1, 2], [2, 3, 0, 1]]
KERNEL = [[2, 0, 1], [0, 1, 2], [1, 0, 2]]  # applied as deep-learning libraries do: no flip


def _conv_1x1():
    from conv import conv2d

    expect(conv2d([[1, 2], [3, 4]], [[2]]), [[2, 4], [6, 8]])


def _conv_3x3():
    from conv import conv2d

    expect(conv2d(IMAGE, KERNEL), [[15, 16], [6, 15]])


def _conv_stride():
    from conv import conv2d

    expect(conv2d(IMAGE, [[1, 1], [1, 1]], stride=2), [[4, 8], [8, 4]])


def _pool_2x2():
    from conv import max_pool2d

    expect(max_pool2d(IMAGE, size=2, stride=2), [[2, 3], [3, 2]])


def _pool_stride_1():
    from conv import max_pool2d

    expect(max_pool2d(IMAGE, size=3, stride=1), [[3, 3], [3, 3]])


def _conv_padding():
    from conv import conv2d

    expect(
        conv2d([[1, 2], [3, 4]], [[1, 1], [1, 1]], padding=1), [[1, 3, 2], [4, 10, 6], [3, 7, 4]]
    )


TESTS = [
    ("q1 conv2d with a 1x1 kernel", 10, _conv_1x1),
    ("q1 conv2d with a 3x3 kernel", 20, _conv_3x3),
    ("q1 conv2d with stride 2", 10, _conv_stride),
    ("q2 max pooling with a 2x2 window", 20, _pool_2x2),
    ("q2 max pooling with stride 1", 10, _pool_stride_1),
    ("ec1 conv2d with zero padding", 10, _conv_padding),
]


if __name__ == "__main__":
    sys.dont_write_bytecode = True
    sys.path.insert(0, sys.argv[1])  # the student's files
    with open(sys.argv[2], "w") as out:
        json.dump({"tests": [result(*t) for t in TESTS]}, out, indent=2)
