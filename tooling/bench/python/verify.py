"""Checks a conversion's output with the reference libraries: finds the one array in PATH
(.npy, HDF5 file, Zarr v2/v3 array or group), reads it in row blocks and prints
{"shape", "dtype", "sha256"} of its C-order little-endian bytes, plus "layout": chunks and
codecs as the file states them (so a run that wrote different chunks or codecs is visible).

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


def zarr_layout(driver: str, root: str) -> str:
    """chunks and codecs as the metadata states them, e.g. 'v3 chunks 256x1024 zstd(1)'."""
    if driver == "zarr3":
        with open(os.path.join(root, "zarr.json")) as f:
            meta = json.load(f)
        chunks = meta["chunk_grid"]["configuration"]["chunk_shape"]
        parts = [f"v3 chunks {'x'.join(map(str, chunks))}"]
        for c in meta["codecs"]:
            cfg = c.get("configuration", {})
            if c["name"] == "sharding_indexed":
                inner = "x".join(map(str, cfg["chunk_shape"]))
                codecs = "+".join(d for d in map(describe_v3, cfg["codecs"]) if d)
                parts.append(f"sharded (inner {inner} {codecs})")
            else:
                parts.append(describe_v3(c))
        return " ".join(p for p in parts if p)
    with open(os.path.join(root, ".zarray")) as f:
        meta = json.load(f)
    comp = meta.get("compressor")
    desc = "none"
    if comp:
        desc = comp["id"] + "(" + ",".join(f"{k}={v}" for k, v in comp.items() if k != "id") + ")"
    return f"v2 chunks {'x'.join(map(str, meta['chunks']))} {desc}"


def describe_v3(c: dict) -> str:
    cfg = c.get("configuration", {})
    if c["name"] == "bytes":
        return ""
    if c["name"] in ("zstd", "gzip"):
        return f"{c['name']}({cfg.get('level')})"
    if c["name"] == "blosc":
        return f"blosc({cfg.get('cname')},{cfg.get('clevel')},{cfg.get('shuffle')})"
    return c["name"]


def open_any(path: str):
    if os.path.isdir(path):
        import tensorstore as ts

        driver, root = find_zarr(path)
        arr = ts.open({"driver": driver, "kvstore": {"driver": "file", "path": root}}).result()
        return arr, lambda a, b: arr[a:b].read().result(), zarr_layout(driver, root)
    if path.endswith(".npy"):
        arr = np.load(path, mmap_mode="r")
        return arr, lambda a, b: arr[a:b], "npy"
    import h5py

    f = h5py.File(path, "r")
    found = []
    f.visititems(lambda name, obj: found.append(obj) if isinstance(obj, h5py.Dataset) else None)
    if not found:
        raise SystemExit(f"no dataset in {path}")
    ds = found[0]
    chunks = "x".join(map(str, ds.chunks)) if ds.chunks else "contiguous"
    filters = [f"{ds.compression}({ds.compression_opts})" if ds.compression else ""]
    if ds.shuffle:
        filters.insert(0, "shuffle")
    layout = f"HDF5 {ds.name} chunks {chunks} {'+'.join(f for f in filters if f) or 'no filter'}"
    return ds, lambda a, b: ds[a:b], layout


def main() -> None:
    arr, read, layout = open_any(sys.argv[1])
    shape = tuple(int(n) for n in arr.shape)
    dtype = np.dtype(arr.dtype.numpy_dtype if hasattr(arr.dtype, "numpy_dtype") else arr.dtype)
    digest = hashlib.sha256()
    row_bytes = int(np.prod(shape[1:])) * dtype.itemsize
    for a, b in row_blocks(shape[0], row_bytes, 1, 64 << 20):
        block = np.ascontiguousarray(read(a, b), dtype=dtype.newbyteorder("<"))
        digest.update(block.data)
    print(
        json.dumps(
            {"shape": list(shape), "dtype": dtype.str, "sha256": digest.hexdigest(), "layout": layout}
        )
    )


if __name__ == "__main__":
    main()
