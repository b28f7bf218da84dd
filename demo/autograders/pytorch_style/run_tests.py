"""A small JSON test runner in the style of gradescope-utils: each test's weight and
visibility come from attributes, its name from the docstring's first line."""

import io
import json
import sys
import time
import unittest


class JSONResult(unittest.TextTestResult):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.results = []

    def _record(self, test, passed, output=""):
        method = getattr(test, test._testMethodName)
        doc = (method.__doc__ or test._testMethodName).strip().splitlines()[0]
        weight = getattr(method, "__weight__", 1)
        self.results.append(
            {
                "name": doc,
                "number": getattr(method, "__number__", str(len(self.results) + 1)),
                "score": weight if passed else 0,
                "max_score": weight,
                "status": "passed" if passed else "failed",
                "output": output,
                "visibility": getattr(method, "__visibility__", "visible"),
            }
        )

    def addSuccess(self, test):
        super().addSuccess(test)
        self._record(test, True)

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._record(test, False, self._exc_info_to_string(err, test))

    def addError(self, test, err):
        super().addError(test, err)
        self._record(test, False, self._exc_info_to_string(err, test))


def main(out_path: str) -> None:
    start = time.time()
    suite = unittest.defaultTestLoader.discover("tests")
    runner = unittest.TextTestRunner(stream=io.StringIO(), resultclass=JSONResult)
    result = runner.run(suite)
    tests = result.results
    with open(out_path, "w") as out:
        json.dump(
            {
                "score": sum(t["score"] for t in tests),
                "execution_time": f"{time.time() - start:.2f}",
                "tests": tests,
            },
            out,
            indent=2,
        )


if __name__ == "__main__":
    main(sys.argv[1])
