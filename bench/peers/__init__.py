"""Peer algorithms (SKDH, gaitmap) run in their own venv; see runner.py."""
