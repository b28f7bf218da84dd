"""Similarity (plagiarism) checks, pure (no ORM, no settings): which files are compared, as
what text, and how much two submissions share, by copydetect's winnowed fingerprints
(`copydetect <https://github.com/blingenf/copydetect>`_, after MOSS's winnowing).

- A file is compared when it is text (UTF-8, no NUL byte) of at most ``MAX_FILE_BYTES``;
  a Jupyter notebook as its code cells. Line ends are made ``\\n``: the character slices
  stored for the side-by-side view are slices of :func:`comparable_text`'s text, which the
  page reads again the same way.
- Code is tokenized by the file's language (Pygments, by name) and filtered: variable,
  function and class names become one letter, strings ``S``, comments and spaces go. So a
  copy with renamed variables, moved functions or new comments still matches.
- The starter code's fingerprints (every k-gram of it) are removed from every file first:
  code handed out to everyone is not similarity.
- Directional similarity of submission a to b: of a's fingerprinted tokens, the share that
  matches some file of b (per file of a, its best-matching file of b). A pair's
  ``similarity`` is the mean of the two directions (JPlag's average): a small submission
  wholly inside a large one is not flagged as strongly as two near-identical ones. Both
  directions are kept.

Copydetect hashes k-grams with Python's ``hash()``, which differs between processes: one
check runs in one process (one Celery task), fingerprints and comparisons together."""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from grading.code_view import decode_text, extension

# copydetect's own defaults: matches shorter than NOISE_T filtered characters are noise;
# every match of GUARANTEE_T characters is found (window = GUARANTEE_T - NOISE_T + 1).
NOISE_T = 25
GUARANTEE_T = 25
MAX_FILE_BYTES = 512 * 1024  # larger files (data, generated code) are left out
MAX_FILES = 100  # per submission, the first by name
MAX_STARTER_BYTES = 4 * 1024 * 1024  # the starter code kept with a check, all files together


def _notebook_code(text: str) -> tuple[str, str] | None:
    """A notebook's code cells, one after another, and the language they are in."""
    try:
        notebook = json.loads(text)
    except ValueError:
        return None
    if not isinstance(notebook, dict) or not isinstance(notebook.get("cells"), list):
        return None
    language = "python"
    info = (notebook.get("metadata") or {}).get("language_info") or {}
    if isinstance(info, dict) and isinstance(info.get("name"), str):
        language = info["name"]
    cells = []
    for cell in notebook["cells"]:
        if isinstance(cell, dict) and cell.get("cell_type") == "code":
            source = cell.get("source", "")
            cells.append("".join(source) if isinstance(source, list) else str(source))
    return "\n\n".join(cells), language


_LANGUAGE_EXTENSIONS = {"python": "py", "r": "r", "julia": "jl"}


def comparable_text(name: str, data: bytes) -> tuple[str, str] | None:
    """The text of a file as a check compares it, and the file name its language is told by
    (a notebook: its code cells, named like a source file of its language); None for a file
    left out (binary, too large)."""
    if len(data) > MAX_FILE_BYTES:
        return None
    text = decode_text(data)
    if text is None:
        return None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if extension(name) == "ipynb":
        code = _notebook_code(text)
        if code is None:
            return None
        text, language = code
        return text, f"{name}.{_LANGUAGE_EXTENSIONS.get(language.lower(), language.lower())}"
    return text, name


@dataclass(frozen=True)
class SourceFile:
    """One file to compare: its name (as submitted), its comparable text, and the name that
    tells its language."""

    name: str
    text: str
    lexed_as: str


@dataclass(frozen=True)
class Document:
    """One counting submission: ``key`` (its id) and its files."""

    key: int
    files: Sequence[SourceFile]


@dataclass
class PairResult:
    key_a: int
    key_b: int
    similarity_a: float
    similarity_b: float
    regions: list[dict[str, Any]] = field(default_factory=list)

    @property
    def similarity(self) -> float:
        return (self.similarity_a + self.similarity_b) / 2


def _fingerprint(source: SourceFile, *, win_size: int, boilerplate: Any = None) -> Any:
    """copydetect's fingerprint of the file (leading blank lines aside: Pygments drops them,
    so the slices are shifted back by ``lead``)."""
    from copydetect import CodeFingerprint

    body = source.text.lstrip("\n")
    fp = CodeFingerprint(
        source.lexed_as,
        NOISE_T,
        win_size,
        boilerplate=boilerplate,
        fp=io.StringIO(body),
    )
    fp.lead = len(source.text) - len(body)
    return fp


def starter_hashes(files: Iterable[SourceFile]) -> Any:
    """Every k-gram hash of the starter code (copydetect's boilerplate)."""
    import numpy as np

    hashes: list[int] = []
    for source in files:
        hashes.extend(_fingerprint(source, win_size=1).hashes)
    return np.unique(np.array(hashes, dtype=np.int64))


def _slices(raw: Any, lead: int, length: int) -> list[list[int]]:
    """copydetect's 2xN slice array as ``[[start, end], …]`` in the file's text."""
    if len(raw) == 0 or len(raw[0]) == 0:
        return []
    out = []
    for start, end in zip(raw[0], raw[1], strict=True):
        s, e = min(int(start) + lead, length), min(int(end) + lead, length)
        if e > s:
            out.append([s, e])
    return out


def compare(documents: Sequence[Document], starter: Sequence[SourceFile] = ()) -> list[PairResult]:
    """Every pair of documents sharing any code, most similar first (ties by key)."""
    from copydetect import compare_files

    window = GUARANTEE_T - NOISE_T + 1
    boilerplate = starter_hashes(starter) if starter else None
    prints: list[list[tuple[SourceFile, Any]]] = []
    for document in documents:
        prints.append(
            [
                (source, fp)
                for source in document.files
                if (fp := _fingerprint(source, win_size=window, boilerplate=boilerplate)).hashes
            ]
        )
    results: list[PairResult] = []
    for i, a in enumerate(documents):
        for j in range(i + 1, len(documents)):
            b = documents[j]
            best_a = [0.0] * len(prints[i])
            best_b = [0.0] * len(prints[j])
            regions: list[dict[str, Any]] = []
            for x, (source_a, fp_a) in enumerate(prints[i]):
                for y, (source_b, fp_b) in enumerate(prints[j]):
                    if fp_a.hashes.isdisjoint(fp_b.hashes):
                        continue
                    _, (sim_a, sim_b), (slices_a, slices_b) = compare_files(fp_a, fp_b)
                    if not sim_a and not sim_b:
                        continue
                    best_a[x] = max(best_a[x], float(sim_a) * fp_a.token_coverage)
                    best_b[y] = max(best_b[y], float(sim_b) * fp_b.token_coverage)
                    regions.append(
                        {
                            "file_a": source_a.name,
                            "file_b": source_b.name,
                            "similarity": round(float(max(sim_a, sim_b)), 4),
                            "a": _slices(slices_a, fp_a.lead, len(source_a.text)),
                            "b": _slices(slices_b, fp_b.lead, len(source_b.text)),
                        }
                    )
            if not regions:
                continue
            cover_a = sum(fp.token_coverage for _, fp in prints[i])
            cover_b = sum(fp.token_coverage for _, fp in prints[j])
            regions.sort(key=lambda r: (-r["similarity"], r["file_a"], r["file_b"]))
            results.append(
                PairResult(
                    key_a=a.key,
                    key_b=b.key,
                    similarity_a=min(1.0, sum(best_a) / cover_a) if cover_a else 0.0,
                    similarity_b=min(1.0, sum(best_b) / cover_b) if cover_b else 0.0,
                    regions=regions,
                )
            )
    results.sort(key=lambda r: (-r.similarity, r.key_a, r.key_b))
    return results


def line_of(text: str, offset: int) -> int:
    """The 1-based line of a character offset."""
    return text.count("\n", 0, offset) + 1


def marked_html(text: str, slices: Sequence[Sequence[int]]) -> str:
    """The text escaped, its slices inside ``<mark>`` (safe to show as it is)."""
    from html import escape

    out, at = [], 0
    for start, end in sorted((int(s), int(e)) for s, e in slices):
        start = max(start, at)
        if end <= start:
            continue
        out.append(escape(text[at:start]))
        out.append("<mark>" + escape(text[start:end]) + "</mark>")
        at = end
    out.append(escape(text[at:]))
    return "".join(out)
