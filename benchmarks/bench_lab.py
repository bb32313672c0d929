"""How fast the lab answers: control change -> redrawn panels, per layout; GUI-thread stalls.

    python -m benchmarks.bench_lab [--quick] [--markdown]

1. For every layout at n = 64, T = 200 (RNN, and the layout's own starting fields): a
   control change (the spectral radius moved by 0.01) computes the layout's cheap measures
   and redraws its cheap panels (set data + a full repaint of the panels at 1280x720):
   median ms over repeated moves. Then its expensive measures and panels, which the lab
   computes in a second lane after the cheap ones.
2. The GUI thread during a slider sweep: the real window, asynchronous as a user runs it,
   the radius moved every 16 ms for 10 s (3 s with --quick); a 1 ms QTimer records the
   longest gap between its ticks (the longest time the GUI thread was blocked).

Measured as the app runs: one BLAS thread (``gradlab`` sets that for its own process),
offscreen Qt. Prints one table.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def _cheap_and_expensive(names):
    from gradlab.measures import get_measure

    cheap = [n for n in names if get_measure(n).cost == "cheap"]
    return cheap, [n for n in names if n not in cheap]


def bench_layouts(repeats: int) -> list[dict]:
    from PySide6.QtWidgets import QApplication, QGridLayout, QWidget

    from gradlab.app.panels import PANELS
    from gradlab.app.theme import get_theme
    from gradlab.config import LabConfig
    from gradlab.lab import Lab
    from gradlab.layouts import LAYOUTS

    app = QApplication.instance() or QApplication([])
    theme = get_theme("dark")
    rows = []
    for layout in LAYOUTS.values():
        lab = Lab()
        config = LabConfig(hidden=64, steps=200).replace(**dict(layout.config))
        host = QWidget()
        grid = QGridLayout(host)
        panels = []
        for name, r, c, rs, cs in layout.cells:
            panel = PANELS[name](theme)
            grid.addWidget(panel.widget, r, c, rs, cs)
            panels.append(panel)
        host.resize(1280, 720)
        host.show()
        measures = sorted({m for p in panels for m in p.measures + p.follows})
        cheap, expensive = _cheap_and_expensive(measures)
        cheap_panels = [p for p in panels if set(p.measures) <= set(cheap)]
        slow_panels = [p for p in panels if p not in cheap_panels or p.follows]
        snap = lab.compute(config)  # compile and warm every cache once
        for p in panels:
            p.show(snap)
        app.processEvents()
        fast, slow = [], []
        for k in range(repeats):
            c = config.replace(spectral_radius=round(0.9 + 0.01 * (k % 20), 2))
            t0 = time.perf_counter()
            s = lab.compute(c, cheap)
            for p in cheap_panels:
                p.show(s)
            host.repaint()
            t1 = time.perf_counter()
            if expensive:
                s = s.merged(lab.compute(c, expensive))
                for p in slow_panels:
                    p.show(s)
                host.repaint()
            t2 = time.perf_counter()
            fast.append(1e3 * (t1 - t0))
            slow.append(1e3 * (t2 - t1))
        rows.append({"layout": layout.name, "cheap": ", ".join(cheap),
                     "cheap_ms": statistics.median(fast),
                     "expensive": ", ".join(expensive) or "-",
                     "expensive_ms": statistics.median(slow) if expensive else 0.0})
        host.close()
    return rows


def bench_stalls(seconds: float, layout: str) -> dict:
    from PySide6.QtCore import QElapsedTimer, QTimer
    from PySide6.QtWidgets import QApplication

    from gradlab.app.window import LabWindow
    from gradlab.config import LabConfig

    app = QApplication.instance() or QApplication([])
    window = LabWindow(LabConfig(hidden=64, steps=200))
    window.set_layout(layout)
    window.resize(1280, 720)
    window.show()
    deadline = time.perf_counter() + 5.0
    while window.snapshot is None and time.perf_counter() < deadline:  # first picture
        app.processEvents()
    clock = QElapsedTimer()
    clock.start()
    last = [clock.elapsed()]
    gaps = []

    def tick():
        now = clock.elapsed()
        gaps.append(now - last[0])
        last[0] = now

    ticker = QTimer()
    ticker.setInterval(1)
    ticker.timeout.connect(tick)
    moves = [0]

    def move():
        moves[0] += 1
        rho = 0.8 + 0.4 * ((moves[0] * 0.01) % 1.0)
        window.set_config(window.config.replace(spectral_radius=round(rho, 2)))

    mover = QTimer()
    mover.setInterval(16)
    mover.timeout.connect(move)
    ticker.start()
    mover.start()
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        app.processEvents()
        time.sleep(0.0005)
    mover.stop()
    ticker.stop()
    window.close()
    return {"layout": layout, "moves": moves[0], "max_gap_ms": max(gaps) if gaps else 0.0,
            "p99_gap_ms": sorted(gaps)[int(0.99 * (len(gaps) - 1))] if gaps else 0.0}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats, 3 s sweeps")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = parser.parse_args(argv)
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")  # as the app runs
    rows = bench_layouts(5 if args.quick else 30)
    out = sys.stdout
    out.write("| layout | cheap measures | cheap redraw ms (median) | expensive | "
              "expensive follows ms (median) |\n|---|---|---|---|---|\n")
    for r in rows:
        out.write(f"| {r['layout']} | {r['cheap']} | {r['cheap_ms']:.1f} | {r['expensive']} | "
                  f"{r['expensive_ms']:.0f} |\n")
    seconds = 3.0 if args.quick else 10.0
    out.write("\n| slider sweep (layout) | moves | longest GUI gap ms | 99th percentile ms |\n"
              "|---|---|---|---|\n")
    for name in ("vanishing", "spectra"):
        s = bench_stalls(seconds, name)
        out.write(f"| {s['layout']} | {s['moves']} | {s['max_gap_ms']:.0f} | "
                  f"{s['p99_gap_ms']:.0f} |\n")
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
