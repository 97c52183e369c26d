"""Shared setup for the sidecar's unittest suite: import the package from src/."""
import os
import sys

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
SIDECAR = os.path.join(REPO, "src", "sidecars", "python")
FIXTURES = os.path.join(REPO, "test", "fixtures")
if SIDECAR not in sys.path:
    sys.path.insert(0, SIDECAR)
