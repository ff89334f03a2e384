"""Prints the Python side's versions as JSON (machine facts of the benchmark report)."""

import json
import platform
from importlib.metadata import PackageNotFoundError, version


def v(name: str):
    try:
        return version(name)
    except PackageNotFoundError:
        return None


facts = {
    "python": platform.python_version(),
    "numpy": v("numpy"),
    "h5py": v("h5py"),
    "tensorstore": v("tensorstore"),
    "numcodecs": v("numcodecs"),
}
try:
    import h5py

    facts["hdf5"] = h5py.version.hdf5_version
except ImportError:
    facts["hdf5"] = None
print(json.dumps(facts))
