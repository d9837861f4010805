#!/usr/bin/env python3
"""Writes the fixtures of tests/test_aedat.c and tests/test_imagefolder.c.

AEDAT (tests/fixtures/aedat/): recordings written here from event lists by
the documented binary layouts (iniVation's "AEDAT file formats": 1.0 and
2.0 big-endian address/timestamp pairs, jAER's DVS128 and DAVIS address
bits; 3.1 libcaer packets), independently of the C reader.  Each file
NAME.aedat has NAME.npy beside it: the polarity events the reader must
return, int64 rows (x, y, t, p).  Also a file cut inside an event and one
with a bad version line, and a small class-per-folder DVS dataset.

Images (tests/fixtures/images/): small PNG and JPEG files in class folders
written by OpenCV; NAME.npy beside each image holds the pixels OpenCV's
decoder returns (RGB order, uint8, H x W x C) and, for the resize test,
resized.npy the nearest-neighbour resize by PIL's rule computed here in
numpy.  Run with /work/main/.venv/bin/python.
"""
import os
import struct

import cv2
import numpy as np

ROOT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures")


def path(*parts):
    p = os.path.join(ROOT, *parts)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    return p


# ---- AEDAT ----

def dvs128_addr(x, y, p):
    # jAER DVS128: x stored mirrored (127 - x) in bits 1..7, y bits 8..14,
    # bit 0 the polarity type (0 = ON).
    return ((127 - x) << 1) | (y << 8) | (0 if p else 1)


def davis_addr(x, y, p):
    return (y << 22) | (x << 12) | ((1 if p else 0) << 11)


def write_v1(name, events, header=True):
    with open(path("aedat", name + ".aedat"), "wb") as f:
        if header:
            f.write(b"#!AER-DAT1.0\r\n# This is a raw AE data file\r\n")
        for x, y, t, p in events:
            f.write(struct.pack(">HI", dvs128_addr(x, y, p), t))
    save_events(name, events)


def save_events(name, events):
    """Rows (x, y, t >> 16, t & 0xFFFF, p): every value exact in float32,
    the type the C tests load .npy files as."""
    rows = [(x, y, t >> 16, t & 0xFFFF, p) for x, y, t, p in events]
    np.save(path("aedat", name + ".npy"), np.array(rows, np.int64))


def write_v2(name, events, chip="eu.seebetter.ini.chips.davis.DAVIS240C",
             extra=()):
    """extra: (index, address) pairs of non-polarity words inserted before
    event `index` (APS samples, special events)."""
    dvs128 = "DVS128" in chip
    addr = dvs128_addr if dvs128 else davis_addr
    with open(path("aedat", name + ".aedat"), "wb") as f:
        f.write(b"#!AER-DAT2.0\r\n")
        f.write(b"# This is a raw AE data file created by saveAEFileAs\r\n")
        f.write(("# AEChip: %s\r\n" % chip).encode())
        for i, (x, y, t, p) in enumerate(events):
            for at, a in extra:
                if at == i:
                    f.write(struct.pack(">II", a, t))
            f.write(struct.pack(">II", addr(x, y, p), t))
    save_events(name, events)


def caer_header(etype, size, overflow, n):
    # eventType, eventSource, eventSize, eventTSOffset, eventTSOverflow,
    # eventCapacity, eventNumber, eventValid
    return struct.pack("<hhiiiiii", etype, 1, size, 4, overflow, n, n, n)


def polarity_word(x, y, p, valid=True):
    return (x << 17) | (y << 2) | ((1 if p else 0) << 1) | (1 if valid else 0)


def write_v3(name, packets):
    """packets: ('pol', overflow, [(x, y, t, p, valid)]) or ('other', type,
    size, count)."""
    expected = []
    with open(path("aedat", name + ".aedat"), "wb") as f:
        f.write(b"#!AER-DAT3.1\r\n#Format: RAW\r\n#Source 1: DVS128\r\n"
                b"#!END-HEADER\r\n")
        for pk in packets:
            if pk[0] == "pol":
                _, ovf, evs = pk
                f.write(caer_header(1, 8, ovf, len(evs)))
                for x, y, t, p, valid in evs:
                    f.write(struct.pack("<Ii", polarity_word(x, y, p, valid),
                                        t))
                    if valid:
                        expected.append((x, y, (ovf << 31) | t, p))
            else:
                _, etype, size, count = pk
                f.write(caer_header(etype, size, 0, count))
                f.write(bytes(range(size * count)))
    save_events(name, expected)


def aedat_fixtures():
    ev = [(0, 0, 10, 1), (127, 5, 20, 0), (64, 127, 25, 1), (3, 99, 4000, 0)]
    write_v1("v1_dvs128", ev)
    write_v1("v1_noheader", ev[:2], header=False)
    dav = [(0, 0, 1, 1), (239, 179, 2, 0), (120, 90, 3, 1),
           (5, 7, 4294967295, 0)]
    # An APS sample (bit 31) and a special event (bit 10) to be skipped.
    write_v2("v2_davis", dav, extra=((1, 0x80000000 | (3 << 12)),
                                     (3, 0x400 | (9 << 12))))
    write_v2("v2_dvs128", ev, chip="ch.unizh.ini.jaer.chip.retina.DVS128")
    write_v3("v3_polarity", [
        ("pol", 0, [(1, 2, 100, 1, True), (345, 259, 200, 0, True),
                    (7, 7, 250, 1, False)]),
        ("other", 2, 16, 3),  # e.g. frame/IMU data: skipped
        ("pol", 2, [(9, 8, 5, 0, True)]),
    ])
    # A 2.0 file cut inside its third event, and a bad version line.
    with open(path("aedat", "v2_davis.aedat"), "rb") as f:
        data = f.read()
    with open(path("aedat", "cut.aedat"), "wb") as f:
        f.write(data[:len(data) - 8 * 2 - 3])
    with open(path("aedat", "badversion.aedat"), "wb") as f:
        f.write(b"#!AER-DAT9.9\r\n" + struct.pack(">II", 0, 0))
    # A 3.1 file cut inside a packet.
    with open(path("aedat", "v3_polarity.aedat"), "rb") as f:
        data = f.read()
    with open(path("aedat", "cut3.aedat"), "wb") as f:
        f.write(data[:-5])
    # A dataset: two classes, DAVIS240 recordings (chip 240 x 180).
    ds = [("a", "rec1", [(0, 0, 0, 1), (239, 179, 1, 1), (120, 90, 2, 0),
                         (120, 90, 2, 0), (60, 45, 3, 1)]),
          ("b", "rec2", [(10, 10, 0, 0), (300, 10, 1, 1), (10, 200, 2, 1)])]
    for cls, name, evs in ds:
        write_v2(os.path.join("dataset", cls, name), evs)
        os.remove(path("aedat", "dataset", cls, name + ".npy"))


# ---- images ----

def pil_nearest(img, w, h):
    """PIL's ImagingScaleAffine nearest rule: coordinates start half a
    pixel in and advance by adding the scale (float64)."""
    sh, sw = img.shape[:2]
    xs, ys = sw / w, sh / h
    cols, rows = [], []
    xin = xs * 0.5
    for _ in range(w):
        cols.append(min(int(xin), sw - 1))
        xin += xs
    yin = ys * 0.5
    for _ in range(h):
        rows.append(min(int(yin), sh - 1))
        yin += ys
    return img[np.ix_(rows, cols)]


def image_fixtures():
    rng = np.random.RandomState(7)
    # Smooth content so that JPEG keeps detail; random for PNG.
    yy, xx = np.mgrid[0:12, 0:10]
    smooth = np.stack([xx * 20 + 10, yy * 15 + 30, (xx + yy) * 9],
                      -1).astype(np.uint8)
    imgs = {
        ("cat", "a.png"): rng.randint(0, 256, (12, 10, 3)).astype(np.uint8),
        ("cat", "b.jpg"): smooth,
        ("dog", "c.png"): rng.randint(0, 256, (12, 10)).astype(np.uint8),
        ("dog", "d.jpeg"): smooth[::-1].copy(),
    }
    for (cls, name), rgb in imgs.items():
        p = path("images", "folder", cls, name)
        bgr = rgb if rgb.ndim == 2 else rgb[..., ::-1]
        params = [cv2.IMWRITE_JPEG_QUALITY, 90] if name.endswith(("jpg",
                                                                  "jpeg")) \
            else []
        assert cv2.imwrite(p, bgr, params)
        dec = cv2.imread(p, cv2.IMREAD_UNCHANGED)
        if dec.ndim == 3:
            dec = dec[..., ::-1]
        np.save(path("images", "decoded", cls, name + ".npy"),
                np.ascontiguousarray(dec))
    # Not a sample: keras ignores other files too.
    with open(path("images", "folder", "cat", "notes.txt"), "w") as f:
        f.write("not an image\n")
    a = np.load(path("images", "decoded", "cat", "a.png.npy"))
    np.save(path("images", "decoded", "a_resized_7x5.npy"),
            pil_nearest(a, 5, 7))
    # PIL's convert('L'): ITU-R 601-2 luma in 16-bit fixed point.
    b = np.load(path("images", "decoded", "cat", "b.jpg.npy")).astype(
        np.int64)
    gray = (b[..., 0] * 19595 + b[..., 1] * 38470 + b[..., 2] * 7471 +
            0x8000) >> 16
    np.save(path("images", "decoded", "b_gray.npy"), gray.astype(np.uint8))
    # A cut PNG.
    with open(path("images", "folder", "cat", "a.png"), "rb") as f:
        data = f.read()
    with open(path("images", "cut.png"), "wb") as f:
        f.write(data[: len(data) // 2])
    with open(path("images", "folder", "cat", "b.jpg"), "rb") as f:
        data = f.read()
    with open(path("images", "cut.jpg"), "wb") as f:
        f.write(data[: len(data) // 2])


if __name__ == "__main__":
    aedat_fixtures()
    image_fixtures()
