"""The monthly report as a self-contained HTML page, opened in headless Chromium (installed by CI's
system packages): the DOM Chromium builds holds the SVG charts with non-empty bars and lines and every
table, and the screenshot shows them drawn (chart colours, the commitment line, met/missed cells)."""
from __future__ import annotations

import asyncio
import re
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from appliance.ops.reports.build import Sources, build
from appliance.ops.reports.periods import Period
from appliance.ops.reports.render_html import COLOURS, render_html
from tests.support.report_run import record_month

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("html")
    services, clock, log = asyncio.run(record_month(tmp))
    report = build("management", Sources(services.store, tmp, log), Period.month(2026, 3), clock())
    services.close()
    path = tmp / "monthly.html"
    path.write_text(render_html(report), encoding="utf-8")
    return tmp, path, report


def chromium(tmp: Path, *args: str) -> subprocess.CompletedProcess:
    assert CHROMIUM.exists(), "chromium is installed by .ci/run (need list)"
    return subprocess.run([str(CHROMIUM), *FLAGS, f"--user-data-dir={tmp / 'profile'}", *args],
                          capture_output=True, text=True, timeout=60, check=True)


def test_page_is_self_contained(page):
    """No scripts, no style sheets, images or fonts from elsewhere: only the SVG namespace is a URL."""
    html = page[1].read_text()
    assert "<script" not in html.lower() and "<link" not in html.lower() and "<img" not in html.lower()
    assert set(re.findall(r"https?://[^\"' )]+", html)) == {"http://www.w3.org/2000/svg"}


def test_chromium_dom_has_the_charts_and_tables(page):
    """Chromium's DOM after loading: one SVG per chart, bars with positive heights, the traffic lines
    with a point per day, and a table per section that has rows."""
    tmp, path, report = page
    dom = chromium(tmp, "--dump-dom", path.as_uri()).stdout
    charts = [s.chart for s in report.sections if s.chart is not None]
    assert len(charts) >= 4 and dom.count('<svg class="chart"') == len(charts)
    heights = [float(h) for h in re.findall(r'<rect class="bar"[^>]*height="([0-9.]+)"', dom)]
    bars = sum(len(series) for c in charts if c.kind == "bar" for series in c.series.values())
    assert len(heights) == bars and min(heights) > 0
    lines = re.findall(r'<polyline class="series" points="([^"]+)"', dom)
    traffic = report.section("traffic").chart
    assert len(lines) == len(traffic.series) and all(len(p.split()) == len(traffic.labels) for p in lines)
    assert dom.count("<table>") == sum(1 for s in report.sections if s.rows)
    assert 'id="exhibit-g"' in dom and "p95 2500 ms over 100 transactions" in dom


def _png_pixels(data: bytes) -> tuple[int, int, list[bytes]]:
    """Width, height and the unfiltered rows (8-bit RGB or RGBA) of a PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width = 8, b"", 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and colour in (2, 6)
            bpp = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows, prev = [], bytes(stride)
    for y in range(height):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        if f == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 255
        elif f == 2:
            line = bytearray((a + b) & 255 for a, b in zip(line, prev))
        elif f == 3:
            for i in range(stride):
                line[i] = (line[i] + ((line[i - bpp] if i >= bpp else 0) + prev[i]) // 2) & 255
        elif f == 4:
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b, c = prev[i], prev[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        prev = bytes(line)
        rows.append(prev[:] if bpp == 3 else bytes(v for i, v in enumerate(prev) if i % 4 != 3))
    return width, height, rows


def test_screenshot_shows_charts_and_tables(page):
    """The page drawn: chart bars in the first colour, the dashed commitment line, the table header
    shade and the met (green) and missed (red) status cells."""
    tmp, path, _ = page
    shot = tmp / "monthly.png"
    chromium(tmp, "--window-size=1000,2400", "--force-device-scale-factor=0.5", "--hide-scrollbars",
             f"--screenshot={shot}", path.as_uri())
    width, height, rows = _png_pixels(shot.read_bytes())
    assert (width, height) == (500, 1200)
    counts: dict[bytes, int] = {}
    for row in rows:
        for x in range(0, len(row), 3):
            px = row[x:x + 3]
            counts[px] = counts.get(px, 0) + 1

    def colour(hex_rgb: str) -> int:
        return counts.get(bytes.fromhex(hex_rgb.lstrip("#")), 0)
    assert len(counts) > 50  # not blank
    assert colour(COLOURS[0]) > 2000  # bar area
    assert colour("#eeeeff") > 200 and colour("#ddffdd") > 200 and colour("#ffdddd") > 50
    near_red = sum(n for px, n in counts.items() if px[0] > 180 and px[1] < 110 and px[2] < 110)
    assert near_red > 20  # the commitment line and its label
