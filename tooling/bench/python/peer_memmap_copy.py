"""Peer for dat -> npy: numpy.memmap block copy into numpy.lib.format.open_memmap.

Usage: python3 peer_memmap_copy.py SRC.dat DST.npy --shape R,C
"""

import argparse

import numpy as np

from common import DTYPE, layout_args, row_blocks


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("src")
    p.add_argument("dst")
    layout_args(p)
    args = p.parse_args()
    shape = tuple(args.shape)
    src = np.memmap(args.src, DTYPE, "r", shape=shape)
    dst = np.lib.format.open_memmap(args.dst, "w+", DTYPE, shape)
    for a, b in row_blocks(shape[0], shape[1] * DTYPE.itemsize, 1, 64 << 20):
        dst[a:b] = src[a:b]
    dst.flush()


if __name__ == "__main__":
    main()
