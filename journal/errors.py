"""Errors raised by the journal.

Every error says what was expected, what was received and what to do
instead; none of them leaves a partial write behind (each public write runs in
one transaction, and values are checked before it starts).
"""

from __future__ import annotations


class JournalError(ValueError):
    """Base class of everything the journal refuses."""


class InvalidValueError(JournalError):
    """A value outside its allowed range or set (a 12/10 pain rating, −3 km).

    Attributes ``field``, ``value`` and ``expected`` hold the parts of the
    message for programs (the dashboard) that want to show them separately.
    """

    def __init__(self, field: str, value: object, expected: str, hint: str = ""):
        self.field = field
        self.value = value
        self.expected = expected
        self.hint = hint
        msg = f"{field}: got {value!r}, expected {expected}"
        if hint:
            msg += f"; {hint}"
        super().__init__(msg)


class FileImportError(JournalError):
    """A file that cannot be imported (not FIT, damaged, not an analysis document)."""

    def __init__(self, path: object, problem: str, hint: str = ""):
        self.path = str(path)
        self.problem = problem
        msg = f"{self.path}: {problem}"
        if hint:
            msg += f" ({hint})"
        super().__init__(msg)


class UnknownRunnerError(JournalError, LookupError):
    """No runner of that name in the journal."""
