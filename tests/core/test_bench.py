"""The benchmark runs end to end in quick mode and prints rows with numbers.

Speed itself is not asserted anywhere: it is what the benchmark reports, not a test.
"""

import math

from gradlab import bench


def rows(out, workload):
    return [line.split() for line in out.splitlines() if line.startswith(workload + " ")]


def test_quick_rnn_prints_numeric_rows_and_a_markdown_table(capsys, monkeypatch):
    monkeypatch.setattr(bench, "_import_jax", lambda: None)  # as on a machine without JAX
    code = bench.main(["--quick", "--workloads", "rnn", "--impls", "gradlab,numpy,jax",
                       "--markdown", "--malloc", "default"])
    out = capsys.readouterr().out
    assert code == 0
    got = {r[3]: r for r in rows(out, "rnn")}
    assert set(got) == {"gradlab", "numpy", "jax"}
    for impl in ("gradlab", "numpy"):
        workload, n, T, _, ms, gflops, ratio, agree = got[impl][:8]
        assert (n, T) == ("32", "100")  # quick mode: the smallest size only
        assert float(ms) > 0 and float(gflops) > 0 and math.isfinite(float(ratio))
    assert float(got["gradlab"][6]) == 1.0
    assert float(got["numpy"][7]) < 1e-10  # the twin computes the same gradients
    assert "jax not installed" in " ".join(got["jax"])  # skipped with a note, no numbers
    assert got["jax"][4] == "-"
    table = [line for line in out.splitlines() if line.startswith("| rnn | 32 | 100 |")]
    assert len(table) == 1 and float(table[0].split("|")[4]) > 0


def test_flop_model_counts_the_matrix_products():
    assert bench.flops("rnn", 2, 10, 3) == 10 * (6 * 4 + 6 * 6)
    assert bench.flops("lstm", 2, 1, 3) == 4 * (6 * 4 + 6 * 6)
    assert bench.flops("spectrum", 3, 2, 1) == 2 * 14 / 3 * 27


def test_bad_arguments_are_one_line_errors(capsys):
    assert bench.main(["--workloads", "rnn,nope"]) == 2
    assert "--workloads" in capsys.readouterr().err
