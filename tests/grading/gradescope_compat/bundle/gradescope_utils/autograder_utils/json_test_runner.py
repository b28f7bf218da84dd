"""A unittest runner that writes Gradescope's results.json."""

import json
import sys
import time
from unittest import result
from unittest.signals import registerResult


def _setting(test, name):
    return getattr(getattr(test, test._testMethodName), name, None)


class JSONTestResult(result.TestResult):
    """Collects one results.json entry per test (or one leaderboard entry)."""

    def __init__(self, stream, descriptions, verbosity, tests, leaderboard, failure_prefix):
        super().__init__(stream, descriptions, verbosity)
        self.descriptions = descriptions
        self.tests = tests
        self.leaderboard = leaderboard
        self.failure_prefix = failure_prefix

    def getDescription(self, test):
        first_line = test.shortDescription()
        if self.descriptions and first_line:
            return first_line
        return str(test)

    def getOutput(self):
        if not self.buffer:
            return ""
        out = self._stdout_buffer.getvalue()
        err = self._stderr_buffer.getvalue()
        if err:
            if out and not out.endswith("\n"):
                out += "\n"
            out += err
        return out

    def buildResult(self, test, err=None):
        failed = err is not None
        weight = _setting(test, "__weight__")
        score = _setting(test, "__score__")
        output = self.getOutput()
        if err is not None:
            hidden_message = _setting(test, "__hide_errors__")
            if hidden_message:
                output += hidden_message
            else:
                if output:
                    output += "\n" if output.endswith("\n") else "\n\n"
                output += f"{self.failure_prefix}{err[1]}\n"
        entry = {"name": self.getDescription(test)}
        if score is not None or weight is not None:
            weight = 0.0 if weight is None else weight
            if score is None:
                score = 0.0 if failed else weight
            entry["score"] = score
            entry["max_score"] = weight
            failed = failed or score < weight
        entry["status"] = "failed" if failed else "passed"
        for key, attribute in (
            ("tags", "__tags__"),
            ("visibility", "__visibility__"),
            ("number", "__number__"),
        ):
            value = _setting(test, attribute)
            if value:
                entry[key] = value
        if output:
            entry["output"] = output
        return entry

    def processResult(self, test, err=None):
        column = _setting(test, "__leaderboard_column__")
        if column:
            self.leaderboard.append(
                {
                    "name": column,
                    "value": _setting(test, "__leaderboard_value__"),
                    "order": _setting(test, "__leaderboard_sort_order__"),
                }
            )
        else:
            self.tests.append(self.buildResult(test, err))

    def addSuccess(self, test):
        super().addSuccess(test)
        self.processResult(test)

    def addError(self, test, err):
        super().addError(test, err)
        self._mirrorOutput = False  # keep the captured output out of the real stdout
        self.processResult(test, err)

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._mirrorOutput = False
        self.processResult(test, err)


class JSONTestRunner:
    """Runs a suite and writes results.json to ``stream``."""

    resultclass = JSONTestResult

    def __init__(
        self,
        stream=sys.stdout,
        descriptions=True,
        verbosity=1,
        failfast=False,
        buffer=True,
        visibility=None,
        stdout_visibility=None,
        post_processor=None,
        failure_prefix="Test Failed: ",
    ):
        self.stream = stream
        self.descriptions = descriptions
        self.verbosity = verbosity
        self.failfast = failfast
        self.buffer = buffer
        self.post_processor = post_processor
        self.failure_prefix = failure_prefix
        self.json_data = {"tests": [], "leaderboard": []}
        if visibility:
            self.json_data["visibility"] = visibility
        if stdout_visibility:
            self.json_data["stdout_visibility"] = stdout_visibility

    def run(self, test):
        outcome = self.resultclass(
            self.stream,
            self.descriptions,
            self.verbosity,
            self.json_data["tests"],
            self.json_data["leaderboard"],
            self.failure_prefix,
        )
        registerResult(outcome)
        outcome.failfast = self.failfast
        outcome.buffer = self.buffer
        started = time.time()
        outcome.startTestRun()
        try:
            test(outcome)
        finally:
            outcome.stopTestRun()
        # Like gradescope-utils: a string with two decimals, and the sum of the tests' scores.
        self.json_data["execution_time"] = format(time.time() - started, "0.2f")
        self.json_data["score"] = sum(t.get("score", 0.0) for t in self.json_data["tests"])
        if self.post_processor is not None:
            self.post_processor(self.json_data)
        json.dump(self.json_data, self.stream, indent=4)
        self.stream.write("\n")
        return outcome
