"""The verification QR code (segno): as an SVG data URI for the page, as modules for the PDF."""

from __future__ import annotations

import segno


def svg_data_uri(url: str) -> str:
    """An ``<img src>`` the portal's CSP allows (``img-src 'self' data:``)."""
    return str(segno.make(url, error="m").svg_data_uri(scale=4, border=2))


def modules(url: str) -> list[list[bool]]:
    """The dark (True) and light modules, row by row, without the quiet zone."""
    return [[bool(cell) for cell in row] for row in segno.make(url, error="m").matrix]
