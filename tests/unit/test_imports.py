import subprocess
import sys

import stacksearch as ss


def test_import_loads_no_framework():
    code = (
        "import sys, stacksearch, stacksearch.report, stacksearch.cli, stacksearch.search, stacksearch.sources;"
        "heavy = [m for m in ('keras', 'tensorflow', 'mlflow', 'jax', 'torch') if m in sys.modules];"
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == ""


def test_public_api_names_resolve():
    for name in ss.__all__:
        assert getattr(ss, name) is not None, name
    assert ss.benchmarks.names()[:1] and callable(ss.benchmarks.load)
