"""What the two file imports (a course config, a roster) share: the refusal that lists every
problem the file has, and counts put into words for their reports."""

from __future__ import annotations

from portal.errors import ApplicationError


class FileRefused(ApplicationError):
    """A file refused whole; ``problems`` has one reason per line, naming where it lies."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


def plural(n: int, word: str, plural: str = "") -> str:
    """``1 section``, ``2 sections``; ``plural`` where adding an s is wrong (``categories``)."""
    return f"{n} {word if n == 1 else plural or word + 's'}"
