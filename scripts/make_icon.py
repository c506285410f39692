#!/usr/bin/env python3
"""Render the application icon to files: resources/icons/.

The icon is the one the window already paints (techdesk.ui.icons.app_icon), so the
desktop build and the running window show the same mark. Writes:

- techdesk-<N>.png for N in 16 24 32 48 64 128 256 (Linux: hicolor theme, .desktop)
- techdesk.ico (Windows executable icon: 16, 24, 32, 48, 64, 128, 256; PNG entries)
- techdesk.icns (macOS app bundle: 16, 32, 64, 128, 256; PNG entries)

Only Qt is needed (no Pillow): ICO and ICNS with PNG entries are simple containers.
Run again after changing app_icon(); commit the files it writes.

Usage: .venv/bin/python scripts/make_icon.py [OUTPUT_DIR]
"""

from __future__ import annotations

import os
import struct
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

PNG_SIZES = (16, 24, 32, 48, 64, 128, 256)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
# ICNS element types that hold PNG data, by pixel size.
ICNS_TYPES = {16: b"icp4", 32: b"icp5", 64: b"icp6", 128: b"ic07", 256: b"ic08"}


def render_png(icon, size: int) -> bytes:
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QSize

    pix = icon.pixmap(QSize(size, size))
    if pix.width() != size:
        raise SystemExit(f"app_icon() has no {size}px image (got {pix.width()}px)")
    data = QByteArray()
    buf = QBuffer(data)
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    if not pix.save(buf, "PNG"):
        raise SystemExit(f"could not encode the {size}px icon as PNG")
    buf.close()
    return bytes(data)


def ico(pngs: dict[int, bytes]) -> bytes:
    """ICONDIR + ICONDIRENTRYs + PNG images (Windows Vista and later read PNG entries)."""
    sizes = sorted(pngs)
    header = struct.pack("<HHH", 0, 1, len(sizes))
    offset = len(header) + 16 * len(sizes)
    entries, images = b"", b""
    for s in sizes:
        data = pngs[s]
        dim = 0 if s >= 256 else s  # 0 means 256
        entries += struct.pack("<BBBBHHII", dim, dim, 0, 0, 1, 32, len(data), offset)
        images += data
        offset += len(data)
    return header + entries + images


def icns(pngs: dict[int, bytes]) -> bytes:
    body = b"".join(ICNS_TYPES[s] + struct.pack(">I", 8 + len(pngs[s])) + pngs[s]
                    for s in sorted(pngs) if s in ICNS_TYPES)
    return b"icns" + struct.pack(">I", 8 + len(body)) + body


def main(argv: list[str]) -> int:
    from PySide6.QtGui import QGuiApplication

    from techdesk.ui.icons import app_icon

    out = Path(argv[0]) if argv else ROOT / "resources" / "icons"
    out.mkdir(parents=True, exist_ok=True)
    app = QGuiApplication.instance() or QGuiApplication([])  # noqa: F841 (QPixmap needs it)
    icon = app_icon()
    pngs = {s: render_png(icon, s) for s in sorted(set(PNG_SIZES) | set(ICO_SIZES) | set(ICNS_TYPES))}
    for s in PNG_SIZES:
        (out / f"techdesk-{s}.png").write_bytes(pngs[s])
    (out / "techdesk.ico").write_bytes(ico({s: pngs[s] for s in ICO_SIZES}))
    (out / "techdesk.icns").write_bytes(icns({s: pngs[s] for s in ICNS_TYPES}))
    for f in sorted(out.iterdir()):
        print(f"{f.relative_to(ROOT) if f.is_relative_to(ROOT) else f}  {f.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
