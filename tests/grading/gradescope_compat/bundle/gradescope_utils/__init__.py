"""A small stand-in for the gradescope-utils package (gradescope/gradescope-utils).

Only the parts Gradescope's Python sample uses: the unittest decorators and JSONTestRunner.
They write results.json the way gradescope-utils does: the name from the docstring's first
line, a string number, score and max_score only for weighted tests, a status, a string
execution_time and a top-level score summing the tests.
"""
