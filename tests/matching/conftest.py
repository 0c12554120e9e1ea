"""The matching tests are pure: make the root importable and opt out of the app/database fixture."""
import pathlib
import sys

import pytest

_ROOT = str(pathlib.Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)


@pytest.fixture(autouse=True)
def _app_context():
    """Overrides tests/conftest.py's autouse app context: the library never touches the app."""
    yield
