"""The use cases stay framework-free: routes and the CLI call them, so importing them
must not bring in Litestar (api/usecases/__init__.py)."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import api.usecases


def test_no_use_case_imports_litestar():
    modules = [f"api.usecases.{m.name}" for m in pkgutil.iter_modules(api.usecases.__path__)]
    probe = (f"import sys\nfor m in {modules!r}: __import__(m)\n"
             "print(sorted({m.split('.')[0] for m in sys.modules if m.startswith('litestar')}))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]", out.stdout
