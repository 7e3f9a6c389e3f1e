"""``compat`` / ``ts.compat`` (issue 13): retrieval compatibility of two embedding models, aligners,
verdicts, the version matrix, and the CLI."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import transferscope as ts
from transferscope.cli.app import app
from transferscope.errors import InputError
from transferscope.metrics.retrieval import retrieval_scores
from transferscope.workflows.compat import compat_features, query_gallery_split
from transferscope.workflows.storage.store import ResultStore


def _clusters(n_classes=20, per_class=12, dim=24, noise=0.7, seed=0):
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(n_classes), per_class)
    return rng.normal(size=(n_classes, dim))[labels] + noise * rng.normal(size=(labels.size, dim)), labels


def _rotation(dim, seed=1, width=None):
    q, _ = np.linalg.qr(np.random.default_rng(seed).normal(size=(width or dim, width or dim)))
    return q[:dim]


def test_split_is_per_label_seeded_and_never_takes_a_whole_label():
    labels = np.array([0] * 10 + [1] * 5 + [2] * 2 + [3])
    q, g = query_gallery_split(labels, query_fraction=0.2, seed=3)
    assert sorted(np.concatenate([q, g]).tolist()) == list(range(18))
    assert [int((labels[q] == c).sum()) for c in range(4)] == [2, 1, 1, 0]
    assert np.array_equal(q, query_gallery_split(labels, query_fraction=0.2, seed=3)[0])
    assert not np.array_equal(q, query_gallery_split(labels, query_fraction=0.2, seed=4)[0])
    pair_ids = np.repeat(np.arange(50), 2)  # paired data: one query, one gallery item per pair
    q, g = query_gallery_split(pair_ids, query_fraction=0.5)
    assert np.array_equal(np.sort(pair_ids[q]), np.arange(50)) and np.array_equal(np.sort(pair_ids[g]), np.arange(50))
    with pytest.raises(InputError, match="query_fraction"):
        query_gallery_split(labels, query_fraction=1.0)
    with pytest.raises(InputError, match="no label has two or more items"):
        query_gallery_split(np.arange(5))


def test_the_same_model_is_compatible_as_is():
    x, y = _clusters()
    result = compat_features(x, x.copy(), y, aligners=[])
    table = result.table.set_index("setting")
    assert table.loc["new/old", "map"] == table.loc["old/old", "map"] == table.loc["new/new", "map"]
    assert result.verdict == "compatible" and "no re-indexing" in result.explanation


def test_a_rotated_scaled_copy_is_incompatible_as_is_and_procrustes_recovers_it_on_held_out_queries():
    x, y = _clusters(dim=24, n_classes=30)
    new = 3.5 * x @ _rotation(24) + 0.2
    result = compat_features(x, new, y, metric="recall@1", aligners=["procrustes", "ridge"], pair_sizes=[10, "all"])
    table = result.table
    own = table[table["setting"] == "new/new"].iloc[0]
    cross = table[table["setting"] == "new/old"].iloc[0]
    assert cross["recall@1"] < 0.5 * own["recall@1"]  # as is: near chance
    full = table[(table["aligner"] == "procrustes") & (table["pairs"] == result.summary["n_gallery"])].iloc[0]
    assert full["recall@1"] >= 0.99 * own["recall@1"] and full["recovered"] >= 0.99
    few = table[(table["aligner"] == "procrustes") & (table["pairs"] == 10)].iloc[0]
    assert few["recall@1"] < full["recall@1"]  # 10 pairs cannot pin down a 24-d rotation
    assert result.verdict == "compatible after alignment"
    assert result.verdicts["pairs"].iloc[0] == result.summary["n_gallery"]


def test_aligned_scores_are_the_retrieval_of_mapped_held_out_queries():
    from transferscope.probes.aligners import fit_aligner

    x, y = _clusters(seed=5)
    new = x @ _rotation(24, seed=2) + 0.1 * np.random.default_rng(0).normal(size=x.shape)
    result = compat_features(x, new, y, aligners=["ridge"], pair_sizes=["all"], seed=0)
    q, g = query_gallery_split(y, seed=0)
    order = np.random.default_rng(1).permutation(g.size)  # the seeded paired subset: all of the gallery
    align = fit_aligner("ridge", new[g[order]], x[g[order]])
    expected = retrieval_scores(align(new[q]), x[g], y[q], y[g])
    got = result.table[result.table["setting"] == "aligned"].iloc[0]
    assert got["map"] == pytest.approx(expected["map"], abs=1e-12)


def test_models_of_different_widths_are_aligned_through_padding():
    x, y = _clusters(dim=24)
    wider = x @ _rotation(24, width=32)  # 32-d vectors: an isometric embedding of the 24-d space
    result = compat_features(x, wider, y, metric="recall@1", aligners=["procrustes"], pair_sizes=["all"])
    table = result.table.set_index("setting")
    assert np.isnan(table.loc["new/old", "map"])  # cannot search a 24-d index with 32-d queries
    assert result.verdict == "compatible after alignment" and "widths differ" in result.explanation
    assert table.loc["aligned", "recovered"] >= 0.99


def test_unrelated_features_stay_not_compatible_after_every_aligner():
    x, y = _clusters(dim=24)
    noise = np.random.default_rng(9).normal(size=x.shape)  # a 'model' that ignores its input
    result = compat_features(x, noise, y, aligners=["procrustes", "ridge", "low_rank", "mlp"])
    assert result.verdict == "not compatible" and "re-index" in result.explanation
    aligned = result.table[result.table["setting"] == "aligned"]
    assert (aligned["map"] < result.table.iloc[0]["map"]).all()
    assert len(aligned) == 4 * 2  # 100 pairs and the whole gallery (192): 1,000 is capped to it


def test_version_sequence_gives_the_compatibility_matrix_with_ac_and_am():
    x, y = _clusters(seed=2)
    v2 = x + 0.05 * np.random.default_rng(3).normal(size=x.shape)  # a small update: compatible
    v3 = x @ _rotation(24, seed=4)  # retrained from scratch: a new space
    result = compat_features(x, [v2, v3], y, names=["v1", "v2", "v3"], aligners=[])
    m = result.matrix
    assert list(m.index) == ["v1", "v2", "v3"] and np.isnan(m.loc["v1", "v2"])
    lower = [m.loc[t, k] for t, k in [("v1", "v1"), ("v2", "v1"), ("v2", "v2"), ("v3", "v1"), ("v3", "v2"),
                                       ("v3", "v3")]]
    assert result.summary["AM"] == pytest.approx(np.mean(lower))
    expected_ac = np.mean([m.loc["v2", "v1"] >= m.loc["v1", "v1"], m.loc["v3", "v1"] >= m.loc["v1", "v1"],
                           m.loc["v3", "v2"] >= m.loc["v2", "v2"]])
    assert result.summary["AC"] == pytest.approx(expected_ac)
    assert m.loc["v3", "v1"] < 0.5 * m.loc["v1", "v1"]
    # the answer says what AC and AM are, in words (it had been "AC 0.333  AM 0.686")
    first = result.answer()[0]
    assert first.startswith(f"Across 3 versions: {round(expected_ac * 3)} of 3 newer -> older pairs searchable as is")
    assert f"(AC {expected_ac:.3f})" in first and f"{result.summary['AM']:.3f} (AM)" in first
    assert list(result.verdicts["new"]) == ["v2", "v3"]


def test_bad_input_names_the_argument():
    x, y = _clusters()
    with pytest.raises(InputError, match="new has 10 rows but old has 240"):
        compat_features(x, x[:10], y)
    with pytest.raises(InputError, match="metric must be one of"):
        compat_features(x, x, y, metric="accuracy")
    with pytest.raises(InputError, match="aligners must be among"):
        compat_features(x, x, y, aligners=["cca"])
    with pytest.raises(InputError, match="pair_sizes"):
        compat_features(x, x, y, pair_sizes=[1])
    with pytest.raises(InputError, match="labels must hold one label per item"):
        compat_features(x, x, y[:5])


def test_real_minilm_rotated_and_random_init(minilm_path, tmp_path):
    from transferscope.datasets import load_builtin
    from transferscope.workflows.engine.candidates import ExtractionOptions, extract_candidates

    data = load_builtin("vader-polarity").subsample(700, seed=0)
    options = ExtractionOptions(cache_dir=str(tmp_path))
    (base,) = extract_candidates(data, [f"st:{minilm_path}"], layers="last", extraction=options)
    x = np.asarray(base.features, dtype=np.float64)
    rotated = compat_features(x, 2.0 * x @ _rotation(x.shape[1], seed=7), data.labels, metric="recall@1",
                              aligners=["procrustes"], pair_sizes=["all"])
    assert rotated.verdict == "compatible after alignment" and rotated.verdicts["recovered"].iloc[0] >= 0.99
    random = ts.compat(old=f"st:{minilm_path}", new=f"random:{minilm_path}", dataset=data, extraction=options)
    assert random.verdict == "not compatible"
    aligned = random.table[random.table["setting"] == "aligned"]
    assert len(aligned) == 4 * 2 and (aligned["map"] < random.table.iloc[0]["map"]).all()  # 100 and 560 pairs


def test_cli_compat_on_feature_files(tmp_path):
    x, y = _clusters()
    np.save(tmp_path / "old.npy", x)
    np.save(tmp_path / "new.npy", 2 * x @ _rotation(24))
    np.save(tmp_path / "y.npy", y)
    runner = CliRunner()
    args = ["compat", "--features-old", str(tmp_path / "old.npy"), "--features-new", str(tmp_path / "new.npy"),
            "--labels", str(tmp_path / "y.npy"), "--aligners", "procrustes", "--pair-sizes", "all", "-q"]
    result = runner.invoke(app, [*args, "--output", str(tmp_path / "c.json"), "--store", str(tmp_path / "r.duckdb")])
    assert result.exit_code == 0, result.output
    assert "compatible after alignment" in result.output
    rows = json.loads((tmp_path / "c.json").read_text())
    assert {r["setting"] for r in rows} == {"old/old", "new/new", "new/old", "aligned"}
    stored = ResultStore(tmp_path / "r.duckdb").table(suite="compat")
    assert set(stored["kind"]) == {"compat", "verdict"} and (stored["kind"] == "verdict").sum() == 1
    for bad, message in ((["--aligners", "cca"], "--aligners must be among"),
                         (["--pair-sizes", "1"], "--pair-sizes must hold integers"),
                         (["--old", "tfidf"], "cannot be combined")):
        out = runner.invoke(app, [*args, *bad])
        assert out.exit_code == 2 and message in out.output, out.output
    out = runner.invoke(app, ["compat", "--old", "tfidf", "--new", "tfidf", "--dataset", "sentence-polarity"])
    assert out.exit_code == 2 and "each model must be given once" in out.output


def test_mixed_space_check_on_synthetic_spaces():
    from transferscope.metrics.mixed_spaces import mixed_space_check

    # 128 dimensions: in very few, two random rotations of one space are themselves noticeably related
    x, _ = _clusters(n_classes=8, per_class=60, dim=128, noise=1.0)
    x = x + 3.0  # anisotropic, as real embedding spaces are
    rotated = x @ _rotation(128, seed=3)
    assert not mixed_space_check(x).flagged
    mixed = mixed_space_check(np.vstack([x[:400], rotated[400:]]))
    assert mixed.flagged and mixed.cut < 0.05 and abs(mixed.relatedness) < 0.1
    smaller = np.flatnonzero(mixed.part == np.argmin(np.bincount(mixed.part)))
    assert smaller.min() >= 400  # the group it found is (part of) the rotated rows
    assert "mixes two embedding models" in mixed.explanation()
    with pytest.raises(InputError, match="at least 40"):
        mixed_space_check(x[:10])


def test_mixed_space_check_groups_many_clusters_the_same_on_every_blas(tmp_path):
    # 40 topic clusters of one anisotropic space, half of the rows turned by a rotation: the kNN graph
    # falls apart into ~40 components, and a spectral cut of it picked one of many equally good splits
    # (a topic against the rest, not flagged) depending on the BLAS kernels (seen with OPENBLAS_CORETYPE)
    import subprocess
    import sys

    script = tmp_path / "check.py"
    script.write_text(
        "import sys, numpy as np\n"
        f"sys.path.insert(0, {str(Path(__file__).parent)!r})\n"
        "from test_compat import _clusters, _rotation\n"
        "from transferscope.metrics.mixed_spaces import mixed_space_check\n"
        "x, _ = _clusters(n_classes=40, per_class=25, dim=64, noise=0.5, seed=2)\n"
        "x = x[np.random.default_rng(1).permutation(len(x))] + 2.0\n"
        "one, mixed = mixed_space_check(x), mixed_space_check(np.vstack([x[:500], x[500:] @ _rotation(64, seed=9)]))\n"
        "print(one.flagged, mixed.flagged, ''.join(map(str, mixed.part)))\n")
    runs = {core: subprocess.run([sys.executable, str(script)], capture_output=True, text=True, check=True,
                                 env={**os.environ, "OPENBLAS_CORETYPE": core}).stdout
            for core in ("Prescott", "Haswell")}
    assert runs["Prescott"] == runs["Haswell"], runs
    one, mixed, part = runs["Haswell"].split()
    assert one == "False" and mixed == "True"
    assert part == "0" * 500 + "1" * 500 or part == "1" * 500 + "0" * 500  # exactly the rotated half


def test_mixed_space_check_on_minilm(minilm_path, tmp_path):
    from transferscope.datasets import load_builtin
    from transferscope.metrics.mixed_spaces import mixed_space_check
    from transferscope.workflows.engine.candidates import ExtractionOptions, extract_candidates

    data = load_builtin("sentence-polarity")
    options = ExtractionOptions(cache_dir=str(tmp_path))
    (base,) = extract_candidates(data, [f"st:{minilm_path}"], layers="last", extraction=options)
    (rand,) = extract_candidates(data, [f"random:{minilm_path}"], layers="last", extraction=options)
    x, r = np.asarray(base.features, dtype=np.float64), np.asarray(rand.features, dtype=np.float64)
    half = len(x) // 2
    assert not mixed_space_check(x).flagged
    assert mixed_space_check(np.vstack([x[:half], r[half:]])).flagged
    assert mixed_space_check(np.vstack([x[:half], x[half:] @ _rotation(x.shape[1], seed=5)])).flagged
    np.save(tmp_path / "index.npy", np.vstack([x[:half], r[half:]]))
    out = CliRunner().invoke(app, ["compat", "--check-index", str(tmp_path / "index.npy")])
    assert out.exit_code == 0 and "flagged" in out.output and "not flagged" not in out.output
    out = CliRunner().invoke(app, ["compat", "--check-index", str(tmp_path / "index.npy"), "--old", "tfidf"])
    assert out.exit_code == 2 and "--check-index takes no other input" in out.output


def test_one_label_for_every_item_is_refused_before_any_model_runs():
    """Issue 26: compat with a single label for every row was accepted (every gallery item relevant
    to every query: any embedding scores the same)."""
    from transferscope.datasets import Dataset
    from transferscope.errors import InputError
    from transferscope.workflows.compat import compat_features

    rng = np.random.default_rng(0)
    with pytest.raises(InputError, match="every item has the same label"):
        compat_features(rng.normal(size=(40, 4)), [rng.normal(size=(40, 4))], ["x"] * 40)
    with pytest.raises(InputError, match="single class"):  # a dataset cannot even be made of it
        Dataset("one", [f"t{i}" for i in range(40)], ["x"] * 40, "classification")


def test_recovered_is_only_said_of_the_rows_that_search_across_models():
    """Issue 25: the 'recovered' column read 2.091 on the old/old row (a reference, not a recovery)."""
    from transferscope.workflows.compat import compat_features

    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(10), 8)
    old = rng.normal(size=(80, 6)) + 3 * np.eye(10, 6)[labels]
    new = rng.normal(size=(80, 6))
    table = compat_features(old, [new], labels, aligners=["procrustes"], pair_sizes=["all"]).table
    reference = table[table["setting"].isin(["old/old", "new/new"])]
    assert reference["recovered"].isna().all()
    assert table[table["setting"] == "new/old"]["recovered"].notna().all()


def test_mixed_space_check_on_the_issue_26_cases():
    """Issue 26: a 40-cluster index with part of it turned by a random rotation was not flagged
    (one chance link among the 1,600 pairs of components merged the two spaces); isotropic
    clusters of one space were flagged as two models; a 1-D space was flagged."""
    from transferscope.metrics.mixed_spaces import mixed_space_check

    rng = np.random.default_rng(0)
    for share in (0.5, 0.15, 0.05):
        centres = rng.normal(size=(40, 64)) * 3
        x = centres[rng.integers(0, 40, 2000)] + rng.normal(size=(2000, 64)) + 4.0  # anisotropic, as models are
        rotation, _ = np.linalg.qr(rng.normal(size=(64, 64)))
        mixed = x.copy()
        cut = int(2000 * (1 - share))
        mixed[cut:] = mixed[cut:] @ rotation
        assert not mixed_space_check(x).flagged, share
        report = mixed_space_check(mixed)
        assert report.flagged and report.share == pytest.approx(share, abs=0.01) and report.control >= 0.25, share
        assert set(report.part[cut:]) == {report.part[-1]} and report.part[0] != report.part[-1]
    isotropic = rng.normal(size=(40, 64))[rng.integers(0, 40, 2000)] * 3 + rng.normal(size=(2000, 64))
    report = mixed_space_check(isotropic)
    assert not report.flagged and report.undecidable and "cannot tell" in report.explanation()
    with pytest.raises(InputError, match="1 dimension"):
        mixed_space_check(rng.normal(size=(500, 1)))


def test_a_small_unrelated_group_is_reported_as_too_small_not_as_related_or_undecidable():
    """A disconnected, unrelated group under min_share is not flagged: the explanation says it is
    too small (it said the groups were related, with a negative relatedness), and the control's
    'cannot tell' is kept for the groups the check would otherwise flag."""
    from transferscope.metrics.mixed_spaces import mixed_space_check

    rng = np.random.default_rng(0)
    space = rng.normal(size=(2000, 32)) + 3.0
    report = mixed_space_check(np.vstack([space, rng.normal(size=(20, 32)) * 0.01 - 5.0]), min_share=0.05)
    assert not report.flagged and not report.undecidable and report.relatedness < 0.25
    assert "too small to count (1.0% of the vectors" in report.explanation()


def test_mixed_space_check_flags_a_share_of_isotropic_noise_by_its_neighbour_scale():
    """Issue 26: 40 clusters of one (anisotropic) space with half of the rows isotropic noise (a model
    that ignores its input) were 'not flagged': the noise's neighbour links reach the clusters, so
    the graph stays connected and its best cut was one cluster. The noise's neighbours are far
    farther: split by that scale, the parts are unrelated, and the index is flagged (the rows found
    are the noise rows). One space with tight and loose clusters is split by scale too, but its
    parts are related and it is not flagged; isotropic clusters plus noise stay 'cannot tell'."""
    from transferscope.metrics.mixed_spaces import mixed_space_check

    rng = np.random.default_rng(0)
    centres = rng.normal(size=(40, 64)) * 3
    for share in (0.5, 0.15, 0.05):
        cut = int(2000 * (1 - share))
        x = centres[rng.integers(0, 40, 2000)] + rng.normal(size=(2000, 64)) + 4.0
        mixed = np.vstack([x[:cut], rng.normal(size=(2000 - cut, 64)) * 3])
        report = mixed_space_check(mixed)
        assert report.flagged and report.basis == "scale" and report.separation >= 4, share
        assert set(report.part[cut:]) == {0} and set(report.part[:cut]) == {1}, share  # part 0: the far neighbours
        assert report.closeness[0] < 0.5 < 0.9 < report.closeness[1]
        assert f"{1 - cut / 2000:.0%} of the vectors have far farther nearest neighbours" in report.explanation()
        # read by direction, a group around the origin looks like noise: the explanation says so
        assert "around the origin look the same" in report.explanation()
        assert not mixed_space_check(x).flagged
    labels = rng.integers(0, 40, 2000)
    uneven = centres[labels] + np.where(labels < 20, 0.3, 2.0)[:, None] * rng.normal(size=(2000, 64)) + 4.0
    report = mixed_space_check(uneven)
    assert not report.flagged and not report.undecidable and report.basis == "graph"
    isotropic = centres[rng.integers(0, 40, 1000)] + rng.normal(size=(1000, 64))
    report = mixed_space_check(np.vstack([isotropic, rng.normal(size=(1000, 64))]))
    assert not report.flagged and report.undecidable and "cannot tell" in report.explanation()
