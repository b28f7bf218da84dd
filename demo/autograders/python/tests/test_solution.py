"""PS0 / HW5 style: pure Python. The student hands in solution.py."""

import math
import unittest


def weight(w, visibility="visible"):
    def deco(fn):
        fn.__weight__ = w
        fn.__visibility__ = visibility
        return fn

    return deco


class TestSolution(unittest.TestCase):
    @weight(40)
    def test_softmax_sums_to_one(self):
        """softmax returns probabilities that sum to 1"""
        from solution import softmax

        probs = softmax([1.0, 2.0, 3.0])
        self.assertAlmostEqual(sum(probs), 1.0, places=6)

    @weight(30)
    def test_softmax_is_stable(self):
        """softmax does not overflow on large inputs"""
        from solution import softmax

        probs = softmax([1000.0, 1000.0])
        self.assertTrue(all(math.isclose(p, 0.5) for p in probs))

    @weight(30, "after_published")
    def test_matmul(self):
        """matmul multiplies two small matrices"""
        from solution import matmul

        self.assertEqual(matmul([[1, 2], [3, 4]], [[5], [6]]), [[17], [39]])
