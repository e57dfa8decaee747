"""A sensor recording into the journal: read it, analyse it, store its run (and its days).

The one way a recording is imported, for ``backstride import``, the dashboard's upload and the demo:
:func:`analyse_recording` reads the file (:func:`sensing.formats.open_recording`) and analyses it with
:func:`analysis.document.full_analysis` (what ``backstride analyse --json`` writes: the run and, for a belt or
thigh sensor, its days); :func:`import_recording` stores that with :meth:`journal.Journal.import_analysis`.

The content hash is the recording file's, so importing the same recording twice does nothing; importing its
analysis JSON later updates the same run.  What the file's reader noticed (no gravity, lost rows) goes into the
import's message, or its refusal.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from journal.errors import FileImportError

#: ``progress(step, text)``: steps 2 (reading), 3 (analysing) and 4 (storing) of the dashboard's five
Progress = Callable[[int, str], None]


@dataclass
class AnalysedRecording:
    """A recording read and analysed: ``recording`` (:class:`sensing.recording.Recording`), ``analysis``
    (:class:`analysis.document.FullAnalysis`), the file's ``sha256``."""

    path: Path
    recording: object
    analysis: object
    sha256: str

    @property
    def doc(self) -> dict:
        return self.analysis.doc

    @property
    def notes(self) -> list[str]:
        """What the file's reader noticed (``Recording.extra["warnings"]``)."""
        return list(self.recording.extra.get("warnings", []))


def content_sha256(path: Path) -> str:
    """The content hash of a recording file, or of a ``backstride record`` folder (its files' names and bytes, in
    name order)."""
    path = Path(path)
    h = hashlib.sha256()
    if path.is_dir():
        for f in sorted(p for p in path.rglob("*") if p.is_file()):
            h.update(str(f.relative_to(path)).encode())
            h.update(content_sha256(f).encode())
        return h.hexdigest()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def analyse_recording(path: str | Path, *, timezone: str | None, placement: str | None = None,
                      name: str | None = None, progress: Progress | None = None) -> AnalysedRecording:
    """Read and analyse the recording at ``path`` (Parquet, BIDS-Motion, a ``backstride record`` folder).

    ``timezone``: the runner's, for the days' dates where the recording names no zone of its own; ``placement``
    overrides the file's; ``name``: how the file is called in messages (an upload's original name).  A file
    that cannot be read or analysed is a :class:`journal.FileImportError` naming it and what is wrong.
    """
    from analysis.document import full_analysis
    from sensing.formats import open_recording

    path = Path(path)
    name = name or str(path)
    say = progress or (lambda *_: None)
    try:
        say(2, "reading the recording")
        rec = open_recording(path, placement)
        if rec.placement is None:
            raise FileImportError(name, "the recording does not say where the sensor was worn (placement)",
                                  "import it with 'backstride import FILE --placement P', P one of lower-back, "
                                  "foot-left, foot-right, thigh-left, thigh-right, chest")
        say(3, f"analysing {rec.duration_s / 60:.1f} min at {rec.sampling_rate_hz:g} Hz ({rec.placement})")
        fa = full_analysis(rec, fallback_timezone=timezone)
    except FileImportError:
        raise
    except ValueError as exc:  # RecordingError is a ValueError: unreadable or unsuitable recording
        text = str(exc).replace(str(path), name)
        text = text[len(name) + 2:] if text.startswith(name + ": ") else text  # the file is named once, in front
        raise FileImportError(name, f"cannot analyse the recording: {text}") from None
    return AnalysedRecording(path=path, recording=rec, analysis=fa, sha256=content_sha256(path))


def import_recording(j, path: str | Path, *, runner: str | None = None, placement: str | None = None,
                     start=None, rpe: float | None = None, kind: str | None = None, name: str | None = None,
                     progress: Progress | None = None):
    """Analyse the recording at ``path`` and store it in the journal ``j``; returns ``(ImportResult,
    AnalysedRecording)``.  The run keeps ``path`` (resolved) as its recording; ``name`` (default: ``path``
    resolved) is the source named in the journal and in messages.  Nothing is stored when anything fails."""
    say = progress or (lambda *_: None)
    zone = j.runner(runner).timezone  # unknown runner: refused before any work
    done = analyse_recording(path, timezone=zone, placement=placement, name=name, progress=say)
    say(4, "storing the run")
    res = j.import_analysis(done.doc, runner=runner, start=start, rpe=rpe, kind=kind,
                            recording_path=str(done.path.resolve()),
                            source_path=name or str(done.path.resolve()),  # the Day page finds the file by it
                            sha256=done.sha256, file_notes=done.notes)
    return res, done
