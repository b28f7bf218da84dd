"""Tests for the calculator assignment (the student submits calculator.py)."""

import time
import unittest

import calculator
from gradescope_utils.autograder_utils.decorators import (
    leaderboard,
    number,
    partial_credit,
    tags,
    visibility,
    weight,
)


class TestArithmetic(unittest.TestCase):
    @weight(2)
    @number("1.1")
    @visibility("visible")
    @tags("arithmetic")
    def test_add(self):
        """Adds two numbers

        The first docstring line is the test's name on Gradescope.
        """
        print("Checking add(2, 3)")
        self.assertEqual(calculator.add(2, 3), 5)
        self.assertEqual(calculator.add(-1, 1), 0)

    @weight(2)
    @number("1.2")
    def test_subtract(self):
        """Subtracts two numbers"""
        self.assertEqual(calculator.subtract(5, 3), 2)

    @weight(3)
    @number("1.3")
    @visibility("after_published")
    @tags("arithmetic", "product")
    def test_multiply(self):
        """Multiplies two numbers"""
        self.assertEqual(calculator.multiply(-4, 3), -12)


class TestDivision(unittest.TestCase):
    @partial_credit(2)
    @number("2.1")
    @visibility("visible")
    def test_divide(self, set_score=None):
        """Divides, with partial credit"""
        cases = [(7, 2, 3.5), (6, 3, 2.0), (1, 4, 0.25), (-9, 3, -3.0)]
        right = 0
        for a, b, expected in cases:
            if calculator.divide(a, b) == expected:
                right += 1
            else:
                print(f"divide({a}, {b}) should be {expected}")
        set_score(2 * right / len(cases))

    @weight(1)
    @number("2.2")
    @visibility("hidden")
    def test_divide_by_zero(self):
        """Refuses division by zero"""
        with self.assertRaises(ValueError):
            calculator.divide(1, 0)


class TestModule(unittest.TestCase):
    @number("3.1")
    @visibility("visible")
    def test_docstring(self):
        """Module has a docstring"""
        self.assertTrue(calculator.__doc__, "calculator.py should start with a docstring")

    @leaderboard("Operations per second")
    def test_speed(self, set_leaderboard_value=None):
        """Speed"""
        started = time.perf_counter()
        for i in range(10000):
            calculator.add(i, i)
        set_leaderboard_value(round(10000 / max(time.perf_counter() - started, 1e-9)))
