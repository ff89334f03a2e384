"""Writes sample.h5, the file of the README's quick start (`npx convert apps/cli/samples/sample.h5 out.zarr`).

A small HDF5 hierarchy in the shapes real data has: groups with attributes, chunked and
compressed datasets (gzip + shuffle), a contiguous one, a fill value, a soft link, and only
numeric dtypes so that every output format (Zarr v3 included) can hold all of it.
Deterministic: run `python3 generate.py` (numpy, h5py) in this folder to rewrite it.
"""

import h5py
import numpy as np

rng = np.random.default_rng(20240607)

with h5py.File("sample.h5", "w", libver="earliest") as f:
    f.attrs["title"] = "arraystore sample: a small weather station archive"
    f.attrs["version"] = 1
    f.attrs["stations"] = np.array([101, 102, 103], dtype="<i4")

    m = f.create_group("measurements")
    m.attrs["instrument"] = "thermometer"
    m.attrs["interval_minutes"] = 60
    days = np.arange(365, dtype="<f4")[:, None]
    hours = np.arange(24, dtype="<f4")[None, :]
    temperature = (
        10 + 8 * np.sin(2 * np.pi * (days - 100) / 365) + 4 * np.sin(2 * np.pi * (hours - 9) / 24)
    ).astype("<f4") + rng.normal(0, 0.5, (365, 24)).astype("<f4")
    t = m.create_dataset(
        "temperature", data=temperature, chunks=(73, 24), compression="gzip", compression_opts=4,
        shuffle=True, fillvalue=np.float32("nan"),
    )
    t.attrs["units"] = "degC"
    t.attrs["long_name"] = "air temperature"
    m.create_dataset("rain_mm", data=rng.gamma(0.3, 2.0, (365, 24)).astype("<f8"), chunks=(365, 6), compression="gzip")
    m.create_dataset("dry_day", data=rng.random(365) < 0.7)
    m.create_dataset("pressure_pa", data=rng.integers(95000, 105000, 365 * 24, dtype="<i4"))

    img = f.create_group("camera")
    img.attrs["exposure_s"] = 0.25
    frames = rng.integers(0, 4096, (6, 48, 64), dtype="<u2")
    img.create_dataset("frames", data=frames, chunks=(1, 48, 64), compression="gzip", compression_opts=1)
    img.create_dataset("calibration", data=(rng.normal(size=8) + 1j * rng.normal(size=8)).astype("<c16"))

    f["latest"] = h5py.SoftLink("/measurements/temperature")
