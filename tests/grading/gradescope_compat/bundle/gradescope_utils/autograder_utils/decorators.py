"""Decorators that attach grading settings to unittest test methods."""

import functools


class weight:
    """@weight(2.0): the test is worth this many points (all or nothing)."""

    def __init__(self, val):
        self.val = val

    def __call__(self, func):
        func.__weight__ = self.val
        return func


class number:
    """@number("1.2"): the test's number, used to sort tests. Always stored as a string."""

    def __init__(self, val):
        self.val = str(val)

    def __call__(self, func):
        func.__number__ = self.val
        return func


class visibility:
    """@visibility("hidden" | "after_due_date" | "after_published" | "visible")."""

    def __init__(self, val):
        self.val = val

    def __call__(self, func):
        func.__visibility__ = self.val
        return func


class tags:
    """@tags("concept1", "concept2")."""

    def __init__(self, *args):
        self.tags = args

    def __call__(self, func):
        func.__tags__ = self.tags
        return func


class hide_errors:
    """@hide_errors("message"): show this message instead of the assertion on failure."""

    def __init__(self, val="Test failed"):
        self.val = val

    def __call__(self, func):
        func.__hide_errors__ = self.val
        return func


class partial_credit:
    """@partial_credit(weight): the test calls set_score(points) itself."""

    def __init__(self, weight):
        self.weight = weight

    def __call__(self, func):
        func.__weight__ = self.weight

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            kwargs["set_score"] = set_score
            return func(*args, **kwargs)

        def set_score(points):
            wrapper.__score__ = points

        return wrapper


class leaderboard:
    """@leaderboard("column", sort_order="desc"): the test calls set_leaderboard_value(x)."""

    def __init__(self, column_name, sort_order="desc"):
        self.column_name = column_name
        self.sort_order = sort_order

    def __call__(self, func):
        func.__leaderboard_column__ = self.column_name
        func.__leaderboard_sort_order__ = self.sort_order

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            kwargs["set_leaderboard_value"] = set_leaderboard_value
            return func(*args, **kwargs)

        def set_leaderboard_value(value):
            wrapper.__leaderboard_value__ = value

        return wrapper
