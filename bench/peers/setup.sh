#!/usr/bin/env bash
# Create bench/.peers-venv with the peer algorithms (SKDH, gaitmap) at pinned versions.
#
# The peers live in their own environment so that the project never depends on them:
# bench/peers/runner.py calls this venv's python through a subprocess.
#
#   bash bench/peers/setup.sh            # create or update
#   PYTHON=python3.11 bash bench/peers/setup.sh
#
# Needs Python 3.11 (the pins were resolved and tested on CPython 3.11.7, x86_64 Linux)
# and access to PyPI.  gaitmap_mad is AGPL-3.0 (gaitmap itself is MIT); it is only
# installed here and called as a separate process, never imported by the project.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$(cd "$here/.." && pwd)/.peers-venv"
python="${PYTHON:-python3}"

"$python" - <<'PY'
import sys
if sys.version_info[:2] != (3, 11):
    sys.exit(f"bench/peers/setup.sh: needs Python 3.11, found {sys.version.split()[0]} "
             "(set PYTHON=/path/to/python3.11)")
PY

if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --upgrade "pip>=24"
"$venv/bin/python" -m pip install --quiet -r "$here/requirements.txt"
"$venv/bin/python" - <<'PY'
import skdh, gaitmap, gaitmap_mad  # noqa: F401
from skdh.gait import GaitLumbar  # noqa: F401
from gaitmap.stride_segmentation import BarthDtw  # noqa: F401
from gaitmap.event_detection import RamppEventDetection  # noqa: F401
print(f"peers ready: scikit-digital-health {skdh.__version__}, gaitmap {gaitmap.__version__}")
PY
echo "venv: $venv"
