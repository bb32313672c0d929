"""The benchmark command runs end to end in quick mode and prints rows with numbers.

Speed itself is not asserted anywhere: it is what the benchmark reports, not a test.
"""

import math

from benchmarks import bench


def rows(out, workload):
    return [line.split() for line in out.splitlines() if line.startswith(workload + " ")]


def test_quick_rnn_prints_numeric_rows_and_a_markdown_table(capsys, monkeypatch):
    monkeypatch.setattr(bench, "_import_jax", lambda: None)  # as on a machine without JAX
    code = bench.main(["--quick", "--workloads", "rnn", "--regimes", "healthy,vanishing",
                       "--impls", "gradlab,numpy,jax", "--markdown", "--no-busy"])
    out = capsys.readouterr().out
    assert code == 0
    got = {(r[1], r[4]): r for r in rows(out, "rnn")}
    assert set(got) == {(g, i) for g in ("healthy", "vanishing") for i in ("gradlab", "numpy", "jax")}
    for regime in ("healthy", "vanishing"):
        for impl in ("gradlab", "numpy"):
            workload, _, n, T, _, ms, gflops, ratio, agree = got[regime, impl][:9]
            assert (n, T) == ("32", "100")  # quick mode: the smallest size only
            assert float(ms) > 0 and float(gflops) > 0 and math.isfinite(float(ratio))
        assert float(got[regime, "gradlab"][7]) == 1.0
        assert float(got[regime, "numpy"][8]) < 1e-10  # the twin computes the same gradients
        assert "jax not installed" in " ".join(got[regime, "jax"])  # a note, no numbers
        assert got[regime, "jax"][5] == "-"
    table = [line for line in out.splitlines() if line.startswith("| rnn | healthy | 32 | 100 |")]
    assert len(table) == 1 and float(table[0].split("|")[5]) > 0


def test_busy_table_compares_the_default_with_one_thread(monkeypatch):
    import os

    import gradlab

    monkeypatch.setenv("GRADLAB_THREADS", "1")
    res = bench.busy_ratios(gradlab, ["rnn"], 16, 50, 3, rounds=1, calls=1, out=print, pair=True)
    assert [r["condition"] for r in res] == ["as is", "1 busy process", "4 callers"]
    for r in res:
        assert r["default"] > 0 and r["one"] > 0 and r["pair"] > 0
        assert math.isclose(r["one/default"], r["one"] / r["default"])  # (one round)
    assert os.environ["GRADLAB_THREADS"] == "1"  # the caller's setting is restored


def test_flop_model_counts_the_matrix_products():
    assert bench.flops("rnn", 2, 10, 3) == 10 * (6 * 4 + 6 * 6)
    assert bench.flops("lstm", 2, 1, 3) == 4 * (6 * 4 + 6 * 6)
    assert bench.flops("spectrum", 3, 2, 1) == 2 * 14 / 3 * 27


def test_bad_arguments_are_one_line_errors(capsys):
    assert bench.main(["--workloads", "rnn,nope"]) == 2
    assert "--workloads" in capsys.readouterr().err
