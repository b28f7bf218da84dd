"""HW3's autograder: a saliency map and the losses of style transfer on lists (the student's
style.py), no torch.

Run as ``grade.py SUBMISSION_DIR RESULTS_JSON``. Each test is worth its points, all or nothing,
and is named after the question it feeds: "q1 ..." saliency, "q2 ..." the style and content
losses, "ec1 ..." total variation. The harness (``result``, ``expect``) is the same in every
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


# Features: one row per channel, one column per position.
FEATURES = [[1.0, 2.0, 0.0, 1.0], [0.0, 1.0, 3.0, 2.0]]


def _saliency():
    from style import saliency

    grads = [[[0.1, -2.0], [0.5, 0.0]], [[-0.3, 1.0], [0.2, -0.7]], [[0.2, 0.5], [-0.9, 0.1]]]
    expect(saliency(grads), [[0.3, 2.0], [0.9, 0.7]])


def _gram():
    from style import gram_matrix

    expect(gram_matrix(FEATURES), [[1.5, 1.0], [1.0, 3.5]])


def _content_loss():
    from style import content_loss

    expect(content_loss(0.5, [[1.0, 2.0], [3.0, 4.0]], [[1.0, 0.0], [3.0, 5.0]]), 2.5)


def _tv_loss():
    from style import tv_loss

    expect(tv_loss([[1.0, 2.0], [4.0, 0.0]], weight=0.1), 3.0)


TESTS = [
    ("q1 saliency is the largest absolute gradient over channels", 30, _saliency),
    ("q2 gram matrix, normalised by the number of positions", 20, _gram),
    ("q2 content loss", 20, _content_loss),
    ("ec1 total variation loss", 10, _tv_loss),
]


if __name__ == "__main__":
    sys.dont_write_bytecode = True
    sys.path.insert(0, sys.argv[1])  # the student's files
    with open(sys.argv[2], "w") as out:
        json.dump({"tests": [result(*t) for t in TESTS]}, out, indent=2)
