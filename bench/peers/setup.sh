#!/usr/bin/env bash
# Create bench/.peers-venv with the peer algorithms (SKDH, gaitmap) and bench/.mobgap-venv (mobgap) at pinned versions.
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

# venv_with VENV REQUIREMENTS CHECK: create or update VENV from REQUIREMENTS, then run the python CHECK in it
venv_with() {
    if [ ! -x "$1/bin/python" ]; then
        "$python" -m venv "$1"
    fi
    "$1/bin/python" -m pip install --quiet --upgrade "pip>=24"
    "$1/bin/python" -m pip install --quiet -r "$2"
    "$1/bin/python" -c "$3"
    echo "venv: $1"
}

venv_with "$venv" "$here/requirements.txt" '
import skdh, gaitmap, gaitmap_mad  # noqa: F401
from skdh.gait import GaitLumbar  # noqa: F401
from gaitmap.stride_segmentation import BarthDtw  # noqa: F401
from gaitmap.event_detection import RamppEventDetection  # noqa: F401
print(f"peers ready: scikit-digital-health {skdh.__version__}, gaitmap {gaitmap.__version__}")'

# mobgap (Mobilise-D) pins a newer numpy than SKDH: its own venv, bench/.mobgap-venv
venv_with "$(cd "$here/.." && pwd)/.mobgap-venv" "$here/requirements-mobgap.txt" '
from importlib.metadata import version
from mobgap.gait_sequences import GsdIluz  # noqa: F401
from mobgap.initial_contacts import IcdIonescu  # noqa: F401
print("peer ready: mobgap", version("mobgap"))'
