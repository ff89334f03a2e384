"""Checks a conversion's output with the reference libraries: finds the one array in PATH
(.npy, HDF5 file, Zarr v2/v3 array or group), reads it in row blocks and prints
{"shape", "dtype", "sha256"} of its C-order little-endian bytes.

Usage: python3 verify.py PATH
"""

import hashlib
import json
import os
import sys

import numpy as np

from common import row_blocks


def find_zarr(path: str):
    """(driver, path) of the first array at or below path (v3 zarr.json or v2 .zarray)."""
    for root, dirs, files in os.walk(path):
        dirs.sort()
        if "zarr.json" in files:
            with open(os.path.join(root, "zarr.json")) as f:
                if json.load(f).get("node_type") == "array":
                    return "zarr3", root
        if ".zarray" in files:
            return "zarr", root
    raise SystemExit(f"no Zarr array under {path}")


def open_any(path: str):
    if os.path.isdir(path):
        import tensorstore as ts

        driver, root = find_zarr(path)
        arr = ts.open({"driver": driver, "kvstore": {"driver": "file", "path": root}}).result()
        return arr, lambda a, b: arr[a:b].read().result()
    if path.endswith(".npy"):
        arr = np.load(path, mmap_mode="r")
        return arr, lambda a, b: arr[a:b]
    import h5py

    f = h5py.File(path, "r")
    found = []
    f.visititems(lambda name, obj: found.append(obj) if isinstance(obj, h5py.Dataset) else None)
    if not found:
        raise SystemExit(f"no dataset in {path}")
    ds = found[0]
    return ds, lambda a, b: ds[a:b]


def main() -> None:
    arr, read = open_any(sys.argv[1])
    shape = tuple(int(n) for n in arr.shape)
    dtype = np.dtype(arr.dtype.numpy_dtype if hasattr(arr.dtype, "numpy_dtype") else arr.dtype)
    digest = hashlib.sha256()
    row_bytes = int(np.prod(shape[1:])) * dtype.itemsize
    for a, b in row_blocks(shape[0], row_bytes, 1, 64 << 20):
        block = np.ascontiguousarray(read(a, b), dtype=dtype.newbyteorder("<"))
        digest.update(block.data)
    print(json.dumps({"shape": list(shape), "dtype": dtype.str, "sha256": digest.hexdigest()}))


if __name__ == "__main__":
    main()
