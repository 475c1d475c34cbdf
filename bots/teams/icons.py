"""The Teams app icons, drawn without an image library, and a PNG size reader for the package check.

Teams wants a full-colour 192x192 icon and a 32x32 outline that is white on transparent.
Regenerate with ``python -m bots.teams.icons`` (the PNGs in this folder are its output).
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent
BLUE = (0x15, 0x42, 0x73, 255)  # Rijksoverheid-like dark blue
WHITE = (255, 255, 255, 255)
CLEAR = (0, 0, 0, 0)


def encode_png(width: int, height: int, pixels: list[list[tuple[int, int, int, int]]]) -> bytes:
    raw = b"".join(b"\x00" + bytes(v for px in row for v in px) for row in pixels)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def png_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) of a PNG, or None when ``data`` is not one."""
    if len(data) < 24 or data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        return None
    return struct.unpack(">II", data[16:24])


def _inked(x: float, y: float, size: int, margin: int) -> bool:
    """Three rising bars and an upward arrow: 'scaling up'."""
    u = (size - 2 * margin) / 4
    fx, fy = (x - margin) / u, (y - margin) / u
    if 0 <= fx < 3 and 0 <= fy < 4:
        col = int(fx)
        if fy >= 3 - col and fx - col < 0.82:
            return True
    cx = margin + 3.41 * u
    ay = (y - margin) / u
    if 0 <= ay <= 1.6:
        return abs(x - cx) <= 0.55 * u * ay / 1.6
    return 1.6 < ay <= 3.0 and abs(x - cx) <= 0.2 * u


def draw(size: int, margin: int, ink, background) -> bytes:
    rows = [
        [ink if _inked(x + 0.5, y + 0.5, size, margin) else background for x in range(size)]
        for y in range(size)
    ]
    return encode_png(size, size, rows)


def write(folder: Path = HERE) -> None:
    (folder / "color.png").write_bytes(draw(192, 36, WHITE, BLUE))
    (folder / "outline.png").write_bytes(draw(32, 3, WHITE, CLEAR))


if __name__ == "__main__":
    write()
