"""aivj market build and search: bundles from a dataset's elite pairs, counts that reconcile, the
champion's ranking, previews from the frame cache, and nearest templates on the standardised features."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from PIL import Image

from aivj.market import config
from aivj.market.cli import main as market_cli
from aivj.market.similarity import ExactIndex, FaissIndex, FeatureSpace, TemplateIndex, make_index
from aivj.market.store import template_id
from aivj.milk.hashing import content_hash
from tests.helpers.market import FREE_TOP, N_ELITE, build, make_market, open_store


@pytest.fixture(scope="module")
def market(tmp_path_factory):
    m = make_market(tmp_path_factory.mktemp("market"))
    return m, build(m)


def test_every_elite_pair_is_a_template_and_the_counts_reconcile(market):
    m, summary = market
    c = summary["counts"]
    assert c["elite_pairs"] == c["templates"] == N_ELITE
    assert c["with_text"] + c["metadata_only"] == c["templates"] == c["with_preview"] + c["without_preview"]
    store = open_store(m)
    assert {r["id"] for r in store.elite} == {template_id(e["fg_id"], e["bg_id"]) for e in m.elite}
    touching = {template_id(e["fg_id"], e["bg_id"]) for e in m.elite if m.no_text in (e["fg_id"], e["bg_id"])}
    assert {r["id"] for r in store.elite if r["fg"]["file"] is None} == touching and c["metadata_only"] == len(touching)
    for record in store.elite:
        if record["id"] in touching:
            assert "none of the preset folders" in record["text_note"]
            continue
        for side in ("fg", "bg"):  # the bundle holds exactly the text its layer's id hashes
            assert content_hash((record["_dir"] / record[side]["file"]).read_bytes()) == record[side]["id"]


def test_the_ranking_is_the_champions_score_on_the_render_path(market):
    m, summary = market
    store = open_store(m)
    assert summary["scoring_path"] == "render" and [r["rank"] for r in store.elite] == list(range(1, N_ELITE + 1))
    scores = [r["score"] for r in store.elite]
    assert scores == sorted(scores, reverse=True)
    import pyarrow.parquet as pq

    presets = pq.read_table(m.cfg.dataset + "/presets.parquet").to_pylist()
    row = {p["preset_id"]: i for i, p in enumerate(presets)}
    static = np.asarray([p["features"] for p in presets], np.float32)
    render = np.asarray([p["render_summary"] + p["render_layout"] + p["render_motion"] for p in presets], np.float32)
    fg = [row[r["fg"]["id"]] for r in store.elite]
    bg = [row[r["bg"]["id"]] for r in store.elite]
    expected = m.scorer.score_presets(static, fg, bg, render, np.ones(len(presets), np.float32))
    np.testing.assert_allclose(scores, expected, atol=1e-5)
    measured = {template_id(e["fg_id"], e["bg_id"]): e["score"] for e in m.elite}
    assert all(r["refinery"]["score"] == pytest.approx(measured[r["id"]], abs=1e-5) for r in store.elite)


def test_previews_are_the_blended_frames_as_animated_webp_or_say_what_is_missing(market):
    m, _ = market
    store = open_store(m)
    for record in store.elite:
        if m.no_frames in (record["fg"]["id"], record["bg"]["id"]):
            assert record["preview"] is None and "not rendered in" in record["preview_note"]
            continue
        image = Image.open(io.BytesIO((record["_dir"] / record["preview"]).read_bytes()))
        assert image.format == "WEBP" and image.n_frames == 16 and image.size == (64, 64)


def test_a_rebuild_replaces_the_library_in_one_piece(market, tmp_path):
    m, _ = market
    before = {p.name for p in (m.root / "library" / "templates").iterdir()}
    build(m)
    after = {p.name for p in (m.root / "library" / "templates").iterdir()}
    assert before == after and not [p for p in m.root.iterdir() if p.name.startswith(".")]


def test_templates_carry_the_coupling_setting_where_the_dataset_has_one(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from aivj.contract.coupling import PAIR_COUPLING_FIELDS

    m = make_market(tmp_path)
    elite = pq.read_table(m.cfg.dataset + "/elite.parquet")
    searched = [i % 2 == 0 for i in range(elite.num_rows)]
    for field in PAIR_COUPLING_FIELDS:
        values = [(3 if field.name == "coupling_phase" else 0.25) if s else None for s in searched]
        elite = elite.append_column(field, pa.array(values, field.type))
    part = tmp_path / "data" / "pairs" / "score_bin=4" / "rank_quartile=Q1"
    part.mkdir(parents=True)
    pq.write_table(elite.drop_columns(["score_bin", "rank_quartile"]), part / "part-0.parquet")
    summary = build(m)
    assert summary["counts"]["with_coupling_setting"] == sum(searched)
    by_pair = {(e["fg_id"], e["bg_id"]): s for e, s in zip(m.elite, searched)}
    for record in open_store(m).elite:
        setting = record["coupling"]["setting"]
        if by_pair[(record["fg"]["id"], record["bg"]["id"])]:
            assert setting["phase"] == 3 and setting["scale"] == 0.25 and setting["gain"] == 0.25
        else:
            assert setting is None


def test_exact_search_is_brute_force_and_faiss_with_every_list_visited_agrees():
    rng = np.random.default_rng(1)
    data = rng.normal(size=(3000, 16)).astype(np.float32)
    queries = rng.normal(size=(5, 16)).astype(np.float32)
    d, rows = ExactIndex(data).search(queries, 7)
    brute = np.linalg.norm(data[None] - queries[:, None], axis=-1)
    np.testing.assert_array_equal(rows, np.argsort(brute, axis=1, kind="stable")[:, :7])
    np.testing.assert_allclose(d, np.sort(brute, axis=1)[:, :7], rtol=1e-4, atol=1e-4)
    assert make_index(data, exact_limit=3000).kind == "exact" and make_index(data, exact_limit=2999, nprobe=4).kind == "faiss-ivf"
    every_list = FaissIndex(data, nprobe=10**6)  # nprobe >= nlist: the inverted file is scanned whole
    np.testing.assert_array_equal(every_list.search(queries, 7)[1], rows)


def test_a_preset_finds_the_templates_it_is_a_layer_of():
    rng = np.random.default_rng(2)
    fg, bg = rng.normal(size=(50, 64)).astype(np.float32), rng.normal(size=(50, 64)).astype(np.float32)
    index = TemplateIndex(fg, bg)
    assert index.nearest_preset(bg[17], 1) == [(17, pytest.approx(0.0, abs=1e-3))]
    assert index.nearest_pair(np.concatenate([fg[3], bg[3]]), 1)[0][0] == 3
    space = FeatureSpace.fit(np.concatenate([fg, bg]))
    z = space.z(np.concatenate([fg, bg]))
    np.testing.assert_allclose(z.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(z.std(axis=0), 1, atol=1e-4)


def test_cli_search_names_the_template_itself_for_its_own_texts(market, capsys):
    m, _ = market
    store = open_store(m)
    record = next(r for r in store.elite if r["fg"]["file"])
    overrides = [f"--set=store={m.root}", f"--set=free_top={FREE_TOP}"]
    code = market_cli(
        ["search", *overrides, "--pair", str(record["_dir"] / "fg.milk"), str(record["_dir"] / "bg.milk"), "-k", "2"]
    )
    lines = capsys.readouterr().out.splitlines()
    assert code == 0 and record["id"] in lines[1] and lines[1].split()[0] == "0.000"


def test_build_without_a_dataset_says_which_file_is_missing(tmp_path, capsys):
    code = market_cli(["build", f"--set=dataset={tmp_path}", f"--set=store={tmp_path / 'm'}"])
    err = capsys.readouterr().err.strip()
    assert (
        code == 2
        and err
        == f"aivj market build: {tmp_path / 'elite.parquet'}: missing (a dataset folder in the layout: docs/data-layout.md)"
    )
    assert not (tmp_path / "m").exists()


def test_the_shipped_config_gives_the_free_tier_the_top_50():
    cfg = config.load()
    assert cfg.free_top == 50 and str(cfg.dataset).endswith("data/default")
    assert not any("${" in str(p) for p in cfg.preset_folders)  # the resolvers ran
    assert json.loads(json.dumps(list(cfg.preset_folders)))[0] == "/usr/share/projectM/presets"
