"""Dataset type, loaders for user files, built-in offline datasets."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from transferscope.datasets import (
    BUILTIN_DATASETS,
    Dataset,
    infer_task,
    load_builtin,
    load_feature_file,
    load_image_folder,
    load_labels,
    load_text_dataset,
)
from transferscope.errors import InputError

ROWS = pd.DataFrame({"text": ["good", "bad", "great", "awful", "fine", "poor"],
                     "label": ["pos", "neg", "pos", "neg", "pos", "neg"]})


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".jsonl", ".parquet"])
def test_table_formats(tmp_path, suffix):
    path = tmp_path / f"data{suffix}"
    if suffix == ".csv":
        ROWS.to_csv(path, index=False)
    elif suffix == ".tsv":
        ROWS.to_csv(path, index=False, sep="\t")
    elif suffix == ".jsonl":
        path.write_text("\n".join(json.dumps(r) for r in ROWS.to_dict("records")))
    else:
        ROWS.to_parquet(path)
    ds = load_text_dataset(path, text_column="text", label_column="label")
    assert ds.inputs == list(ROWS["text"]) and ds.task == "classification" and ds.n_classes == 2


def test_table_errors(tmp_path):
    path = tmp_path / "data.csv"
    ROWS.to_csv(path, index=False)
    with pytest.raises(InputError, match="label-column 'y' is not a column"):
        load_text_dataset(path, text_column="text", label_column="y")
    with pytest.raises(InputError, match="does not exist"):
        load_text_dataset(tmp_path / "none.csv", text_column="text", label_column="label")
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(b"not parquet at all")
    with pytest.raises(InputError, match="could not read"):
        load_text_dataset(bad, text_column="text", label_column="label")
    one_class = tmp_path / "one.csv"
    ROWS.assign(label="pos").to_csv(one_class, index=False)
    with pytest.raises(InputError, match="single class"):
        load_text_dataset(one_class, text_column="text", label_column="label")
    missing = tmp_path / "missing.csv"
    ROWS.assign(label=[None, "a", "b", "a", "b", "a"]).to_csv(missing, index=False)
    with pytest.raises(InputError, match="missing value"):
        load_text_dataset(missing, text_column="text", label_column="label")
    with pytest.raises(InputError, match="must end in"):
        load_text_dataset(tmp_path / "x.xlsx" if (tmp_path / "x.xlsx").write_text("x") else None,
                          text_column="text", label_column="label")


def test_infer_task_and_regression_table(tmp_path):
    assert infer_task(np.array([0.5, 1.0])) == "regression"
    assert infer_task(np.array([0, 5])) == "classification"
    path = tmp_path / "r.csv"
    ROWS.assign(label=[0.1, -2.5, 3.0, 1.5, 0.0, 2.2]).to_csv(path, index=False)
    assert load_text_dataset(path, text_column="text", label_column="label").task == "regression"


def test_split_is_seeded_stratified_and_disjoint():
    labels = np.repeat(["a", "b", "c"], [50, 30, 20])
    ds = Dataset("x", [str(i) for i in range(100)], labels, "classification")
    s1, s2 = ds.split(seed=3), ds.split(seed=3)
    np.testing.assert_array_equal(s1.train, s2.train)
    assert not set(s1.train) & set(s1.test) and not set(s1.val) & set(s1.test)
    assert len(s1.train) + len(s1.val) + len(s1.test) == 100
    assert (labels[s1.test] == "c").sum() == 4  # stratified: 20% of 20
    assert not np.array_equal(ds.split(seed=4).test, s1.test)


def test_dataset_validation():
    with pytest.raises(InputError, match="2 inputs but 3 labels"):
        Dataset("x", ["a", "b"], np.array([0, 1, 0]), "classification")
    with pytest.raises(InputError, match="task must be"):
        Dataset("x", ["a", "b"], np.array([0, 1]), "ranking")
    with pytest.raises(InputError, match="NaN"):
        Dataset("x", ["a", "b"], np.array([0.5, np.nan]), "regression")


def test_fingerprint_depends_on_inputs_only():
    a = Dataset("a", ["x", "y"], np.array([0, 1]), "classification")
    b = Dataset("b", ["x", "y"], np.array([1, 0]), "classification")
    c = Dataset("c", ["xy", ""], np.array([0, 1]), "classification")
    assert a.fingerprint() == b.fingerprint() != c.fingerprint()


def test_feature_files(tmp_path):
    x = np.arange(12, dtype=np.float32).reshape(4, 3)
    np.save(tmp_path / "f.npy", x)
    np.savez(tmp_path / "f.npz", emb=x)
    np.savez(tmp_path / "two.npz", a=x, b=x)
    pd.DataFrame({"emb": list(x), "id": range(4)}).to_parquet(tmp_path / "f.parquet")
    pd.DataFrame(x, columns=["a", "b", "c"]).to_csv(tmp_path / "f.csv", index=False)
    for name in ("f.npy", "f.npz", "f.parquet", "f.csv"):
        np.testing.assert_allclose(load_feature_file(tmp_path / name), x)
    np.testing.assert_allclose(load_feature_file(tmp_path / "two.npz", column="b"), x)
    with pytest.raises(InputError, match="name one"):
        load_feature_file(tmp_path / "two.npz")
    np.save(tmp_path / "obj.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(InputError, match="could not read"):
        load_feature_file(tmp_path / "obj.npy")  # never unpickled
    np.save(tmp_path / "v.npy", np.arange(3))
    with pytest.raises(InputError, match="2-D"):
        load_feature_file(tmp_path / "v.npy")


def test_label_files(tmp_path):
    (tmp_path / "y.txt").write_text("cat\ndog\ncat\n")
    assert list(load_labels(tmp_path / "y.txt")) == ["cat", "dog", "cat"]
    (tmp_path / "n.txt").write_text("1\n2\n")
    assert load_labels(tmp_path / "n.txt").dtype.kind in "iu"
    np.save(tmp_path / "y.npy", np.array([[0], [5]]))
    assert list(load_labels(tmp_path / "y.npy")) == [0, 5]
    pd.DataFrame({"y": [1, 2]}).to_csv(tmp_path / "y.csv", index=False)
    assert list(load_labels(tmp_path / "y.csv")) == [1, 2]


def test_image_folder(tmp_path):
    for cls in ("cats", "dogs"):
        (tmp_path / cls).mkdir()
        for i in range(2):
            (tmp_path / cls / f"{i}.png").write_bytes(b"\x89PNG")
    (tmp_path / "cats" / "notes.txt").write_text("skip me")
    ds = load_image_folder(tmp_path)
    assert len(ds) == 4 and ds.modality == "image" and sorted(set(ds.labels)) == ["cats", "dogs"]
    with pytest.raises(InputError, match="no images"):
        load_image_folder(tmp_path / "cats")


@pytest.mark.parametrize("name", sorted(BUILTIN_DATASETS))
def test_builtin_datasets_load_real_data(name):
    info = BUILTIN_DATASETS[name]
    pytest.importorskip(info.package, reason=f"needs the demo extra ({info.package})")
    ds = load_builtin(name)
    assert ds.task == info.task and info.source and info.licence
    expected = {"vader-valence": 7520, "vader-polarity": 7520, "sentence-polarity": 200, "word-language": 2400,
                "vader-intensity": 4193, "newsgroups-topic": 200, "word-category": 452, "word-form": 243}
    if ds.modality == "image":
        from transferscope.datasets.digits import TASKS

        assert len(ds) == TASKS[name].n_samples and ds.inputs.shape[1:] == (1, 16, 16)
        return
    assert len(ds) == expected[name]
    assert len(set(ds.inputs)) > 0.95 * len(ds)


def test_the_text_tasks_of_the_source_bed_hold_what_they_say():
    pytest.importorskip("gensim", reason="needs the demo extra (gensim)")
    pytest.importorskip("vaderSentiment", reason="needs the demo extra (vaderSentiment)")
    from collections import Counter

    from transferscope.datasets.builtin import _vader_lexicon

    posts = load_builtin("newsgroups-topic")
    assert Counter(posts.labels.tolist()) == {"atheism": 100, "space": 100}
    # the label comes from the header, which must not reach the text (nor the quoted lines)
    assert not any("Newsgroups:" in t or "alt.atheism" in t.split(" ")[:3] or t.startswith(">")
                   for t in posts.inputs)
    assert max(map(len, posts.inputs)) <= 1000 and min(map(len, posts.inputs)) > 0
    words, valence = _vader_lexicon()
    strengths: dict[str, list[float]] = {}
    for word, value in zip(words, abs(valence)):
        strengths.setdefault(word, []).append(value)  # 14 words are listed twice, "d:" as -2.9 and 1.2
    intensity = load_builtin("vader-intensity")
    assert len(set(intensity.inputs)) == len(intensity)
    for word, label in zip(intensity.inputs, intensity.labels):
        assert all(v >= 2.0 for v in strengths[word]) if label == "strong" else all(v <= 1.0 for v in strengths[word])
    words_and_roles = load_builtin("word-category")
    category = dict(zip(words_and_roles.inputs, words_and_roles.labels))
    assert (category["paris"], category["france"], category["euro"], category["chicago"], category["illinois"],
            category["sister"], category["french"]) == ("capital", "country", "currency", "us-city", "us-state",
                                                         "family", "nationality")
    form = dict(zip(load_builtin("word-form").inputs, load_builtin("word-form").labels))
    assert (form["amazingly"], form["bigger"], form["biggest"], form["dancing"], form["danced"],
            form["bananas"], form["decreases"]) == ("adverb", "comparative", "superlative", "participle",
                                                     "past-tense", "plural-noun", "verb-3sg")
    assert "big" not in form and "dance" not in form  # the uninflected words are not taken


def test_unknown_builtin():
    with pytest.raises(InputError, match="unknown dataset"):
        load_builtin("imagenet")


def test_printing_a_dataset_is_one_line_and_features_are_public():
    import transferscope as ts

    ds = Dataset("toy", [f"text number {i} " * 50 for i in range(300)], np.repeat(["a", "b", "c"], 100),
                 task="classification")
    assert repr(ds) == "Dataset('toy': 300 text inputs, classification, 3 classes)" and "text number" not in str(ds)
    (cand,) = ts.extract_candidates(ds, ["tfidf"], extraction=ts.ExtractionOptions(use_cache=False))
    assert cand.features.shape[0] == 300
    public = {"meta_evaluate", "extract_candidates", "layers", "compare", "load_builtin", "load_text_dataset",
              "load_image_folder", "Dataset"}
    assert public <= set(ts.__all__) and all(callable(getattr(ts, name)) for name in ts.__all__ if name != "__version__")
    # research harnesses stay in their module, out of the top level (issue 24)
    assert not {"evaluate_text_sources", "evaluate_digit_sources"} & set(ts.__all__)
    assert ts.layers.__name__ == "layer_profile" and ts.load_builtin("sentence-polarity").task == "classification"


def test_every_ts_name_the_readme_and_the_guide_use_exists():
    """``ts.NAME`` in the README and the guide is the public API: each one resolves."""
    import re
    from pathlib import Path

    import transferscope as ts

    root = Path(__file__).resolve().parents[1]
    text = (root / "README.md").read_text(encoding="utf-8") + (root / "docs" / "guide.md").read_text(encoding="utf-8")
    used = set(re.findall(r"\bts\.([A-Za-z_]\w*)", text))
    assert {"rank", "layers", "select", "compat"} <= used
    for name in used:
        assert name in ts.__all__ and getattr(ts, name) is not None, name


def test_a_label_column_with_a_class_per_row_is_refused_naming_it(tmp_path):
    """Issue 26: rank with the text and label columns swapped (60 distinct "labels" over 60 rows)
    was accepted and ranked."""
    from transferscope.datasets import load_text_dataset

    path = tmp_path / "swapped.csv"
    pd.DataFrame({"text": ["pos", "neg"] * 30, "label": [f"review number {i} is long" for i in range(60)]}).to_csv(
        path, index=False)
    with pytest.raises(InputError, match="label-column 'label' .* 60 distinct values over 60 rows.*swapped"):
        load_text_dataset(path, text_column="text", label_column="label")
    ok = load_text_dataset(path, text_column="label", label_column="text")  # the right way round
    assert ok.task == "classification" and len(set(ok.labels)) == 2
    given = load_text_dataset(path, text_column="label", label_column="text", task="classification")
    assert len(given) == 60
