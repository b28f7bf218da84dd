"""The bundle and the submissions are fixture files, not portal tests: pytest must not collect
them (the bundle's tests import a calculator.py that only exists once a submission is copied in)."""

collect_ignore = ["bundle", "submissions"]
