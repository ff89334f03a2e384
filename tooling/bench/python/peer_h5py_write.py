"""Peer for npy -> HDF5 (chunked, gzip 1 + shuffle): h5py writing chunk-aligned row blocks.

Usage: python3 peer_h5py_write.py SRC.npy DST.h5 --shape R,C --chunks 256,1024
"""

import argparse

import h5py
import numpy as np

from common import DTYPE, layout_args, row_blocks


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("src")
    p.add_argument("dst")
    layout_args(p)
    args = p.parse_args()
    src = np.load(args.src, mmap_mode="r")
    shape = src.shape
    with h5py.File(args.dst, "w") as f:
        ds = f.create_dataset(
            "data", shape, DTYPE, chunks=tuple(args.chunks),
            compression="gzip", compression_opts=1, shuffle=True,
        )
        for a, b in row_blocks(shape[0], shape[1] * DTYPE.itemsize, args.chunks[0]):
            ds[a:b] = src[a:b]


if __name__ == "__main__":
    main()
