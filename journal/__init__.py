"""The training journal: runs, sitting days, pain, check-ins and exercises of runners.

Python entry point for the dashboard and scripts::

    from journal import Journal
    with Journal.open() as j:                      # $BACKSTRIDE_JOURNAL or the user data dir
        tl = j.timeline(runner="ana", weeks=8)
        tl.daily, tl.weekly, tl.pain_flags, tl.associations(), tl.pain_episodes()

Modules: :mod:`journal.store` (the Journal), :mod:`journal.load` (load metrics),
:mod:`journal.rules` (the 10 % rules, sitting, pain), :mod:`journal.link`
(timeline and associations), :mod:`journal.fit` and :mod:`journal.documents`
(importers), :mod:`journal.db` and :mod:`journal.migrate` (schema), :mod:`journal.demo`
(a demo runner), :mod:`journal.cli` (the ``backstride`` subcommands).
"""

from journal.db import default_url
from journal.errors import FileImportError, InvalidValueError, JournalError, UnknownRunnerError
from journal.link import JournalData, PainEpisode, Timeline
from journal.rules import PainFlag, SittingTrend
from journal.store import ImportResult, Journal, RunnerInfo

__all__ = [
    "FileImportError",
    "ImportResult",
    "InvalidValueError",
    "Journal",
    "JournalData",
    "JournalError",
    "PainEpisode",
    "PainFlag",
    "RunnerInfo",
    "SittingTrend",
    "Timeline",
    "UnknownRunnerError",
    "default_url",
]
