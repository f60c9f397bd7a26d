"""The shipped default knowledge base (knowledge/default.nt.gz) against its sources."""

from __future__ import annotations

import csv
import gzip
import hashlib
import json
from collections import Counter

import pytest

from tests.knowledge.conftest import KB, SHIPPED, kb_build

B = kb_build
SOURCE_OF = B.DC_SOURCE


def test_shipped_file_matches_its_checksum():
    recorded = (SHIPPED.parent / "SHA256SUMS").read_text(encoding="utf-8").split()
    assert recorded[1] == SHIPPED.name
    assert hashlib.sha256(SHIPPED.read_bytes()).hexdigest() == recorded[0], (
        "knowledge/default.nt.gz changed without its SHA256SUMS: rebuild with "
        "python knowledge/build.py --shared ../shared/data --out knowledge/default.nt.gz "
        "--checksums knowledge/SHA256SUMS")
    assert SHIPPED.stat().st_size < 6_000_000


@pytest.mark.data
@pytest.mark.slow
def test_build_reproduces_the_shipped_file(shared_root, tmp_path):
    out = tmp_path / "default.nt.gz"
    assert B.main(["--shared", str(shared_root), "--out", str(out)]) == 0
    assert out.read_bytes() == SHIPPED.read_bytes(), "the script no longer builds the shipped KB"


def _fvqa_facts(shared_root):
    with open(shared_root / "fvqa" / "facts.jsonl", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


@pytest.mark.data
@pytest.mark.slow
def test_fact_counts_per_source(shipped_kb, shared_root):
    facts = shipped_kb.fact_nodes
    per_source = Counter(f[SOURCE_OF][0] for f in facts.values())
    fvqa = Counter(f["kb"] for f in _fvqa_facts(shared_root))
    assert fvqa == {"conceptnet": 3310, "dbpedia": 624, "webchild": 238}  # the README's counts
    for kb, n in fvqa.items():
        assert per_source[B.source_iri(kb)] == n
    with open(shared_root / "knowledge" / "commonsense" / "commonsense.csv",
              encoding="utf-8-sig", newline="") as handle:
        rows = {(B.label_of(a), r, B.label_of(c)) for a, r, c, _, _ in csv.reader(handle)}
    assert per_source[B.source_iri("pattern-commonsense")] == len(rows) == 9206
    # every WordNet relation triple (synset links aside) has its fact node, and no more
    wn_rel = {(s, p, o) for p in map(B.rel_iri, ("hypernym", "instance_of", "part_of",
                                                  "member_of", "substance_of"))
              for s, o in shipped_kb.by_predicate[p]}
    assert per_source[B.source_iri("wordnet-3.0")] == len(wn_rel) == 14_482  # the README's count
    assert set(per_source) == {B.source_iri(k) for k in B.SOURCES}


@pytest.mark.slow
def test_every_relation_triple_has_a_fact_node_and_back(shipped_kb):
    facts = shipped_kb.fact_nodes
    reified = set()
    for node, f in facts.items():
        assert len(f[B.RDF_SUBJECT]) == len(f[B.RDF_PREDICATE]) == len(f[B.RDF_OBJECT]) == 1, node
        assert len(f[SOURCE_OF]) == 1, node
        triple = (f[B.RDF_SUBJECT][0], f[B.RDF_PREDICATE][0], f[B.RDF_OBJECT][0])
        assert node == B.fact_iri(*triple, f[SOURCE_OF][0].removeprefix(B.SOURCE),
                                  *(t.text for t in f.get(B.P_FACT_ID, ()))), node
        reified.add(triple)
    direct = {(s, p, o) for p, pairs in shipped_kb.by_predicate.items()
              if p.startswith(B.REL) and p != B.rel_iri("synset") for s, o in pairs}
    assert reified == direct
    assert not any(s.startswith(B.FACT) for s, _ in shipped_kb.by_predicate[B.rel_iri("synset")])


@pytest.mark.data
@pytest.mark.slow
def test_every_fvqa_fact_is_there_with_its_source(shipped_kb, shared_root):
    facts = shipped_kb.fact_nodes
    by_id = {f[B.P_FACT_ID][0].text: f for f in facts.values() if B.P_FACT_ID in f}
    source_data = _fvqa_facts(shared_root)
    assert len(by_id) == len(source_data) == 4172
    for fact in source_data:
        node = by_id[fact["fact_id"]]
        s, p, o = (B.concept_iri(B.label_of(fact["head"])), B.rel_iri(fact["rel"]),
                   B.concept_iri(B.label_of(fact["tail"])))
        assert (node[B.RDF_SUBJECT], node[B.RDF_PREDICATE], node[B.RDF_OBJECT]) == ([s], [p], [o])
        assert node[SOURCE_OF] == [B.source_iri(fact["kb"])]
        assert [t.text for t in node[B.P_SURFACE]] == [fact["surface"]]
        assert [t.text for t in node[B.P_RAW_SUBJECT]] == [fact["head"]]
        assert (p, o) in shipped_kb.by_subject[s]
        assert shipped_kb.texts(p, B.RDFS_LABEL) == [fact["rel"]]  # relation names as they are


def _synsets_of(kb, word):
    return kb.objects(B.concept_iri(word), B.rel_iri("synset"))


@pytest.mark.data
def test_the_vocabulary_reads_knowledge_sources_not_evaluation_answers(shared_root, monkeypatch):
    """The words that select WordNet synsets come from the knowledge sources and the scenes'
    label spaces; no answer file of an evaluated data set is read."""
    read = []
    original = B._json
    monkeypatch.setattr(B, "_json", lambda path: read.append(path.name) or original(path))
    vocab = B.vocabulary(shared_root, B.Path(B.__file__).resolve().parents[1])
    assert set(vocab) == {"fvqa concepts", "fvqa facts", "okvqa coco_objects", "okvqa places",
                          "okvqa imagenet_objects", "clevr"}
    assert not any("answer" in name or "question" in name for name in read), read
    assert "detected_coco_objects.json" in read


@pytest.mark.slow
def test_shipped_kb_has_no_word_only_okvqa_answers_name(shipped_kb):
    """"theodore roosevelt" is an OK-VQA train answer and in no knowledge source's vocabulary:
    it was in the KB only while the build read OK-VQA's answers."""
    assert _synsets_of(shipped_kb, "theodore roosevelt") == []
    assert not shipped_kb.by_subject.get(B.concept_iri("theodore roosevelt"))


def _small_kb(tmp_path, wordnet, words):
    graph, _ = B.build(tmp_path, words=words, fvqa_facts=[], commonsense_rows=[], wordnet=wordnet)
    out = tmp_path / "small.nt.gz"
    B.write_ntriples(graph, out)
    with gzip.open(out, "rt", encoding="utf-8", newline="") as handle:
        return KB(handle.readlines())


@pytest.mark.data
def test_roosevelt_is_an_instance_of_president_of_the_united_states(wordnet, tmp_path):
    kb = _small_kb(tmp_path, wordnet, ["theodore roosevelt"])
    (theodore,) = _synsets_of(kb, "theodore roosevelt")
    assert theodore in _synsets_of(kb, "roosevelt")
    assert kb.texts(theodore, B.RDFS_LABEL) == ["roosevelt"]
    # WordNet 3.0's lemmas of this synset (it has no "TR" or "Teddy Roosevelt")
    assert sorted(kb.texts(theodore, B.SKOS_ALT)) == [
        "president roosevelt", "president theodore roosevelt", "theodore roosevelt"]
    (wnid,) = kb.texts(theodore, B.P_WNID)
    # the gloss, with its quotes and backquote, exactly as in data.noun
    (gloss,) = kb.texts(theodore, B.SKOS_DEFINITION)
    assert gloss == wordnet.synset(wnid[1:]).gloss and '"Theodore Roosevelt said `Speak' in gloss
    presidents = [o for o in kb.objects(theodore, B.rel_iri("instance_of"))
                  if kb.texts(o, B.RDFS_LABEL) == ["president of the united states"]]
    assert presidents == [B.WORDNET + "president_of_the_united_states.n.01"]
    # ... and that edge carries its WordNet provenance
    node = B.fact_iri(theodore, B.rel_iri("instance_of"), presidents[0], "wordnet-3.0")
    assert kb.objects(node, SOURCE_OF) == [B.source_iri("wordnet-3.0")]
    # the president synset leads up to person.n.01 through hypernyms
    seen, frontier = set(), [presidents[0]]
    while frontier:
        s = frontier.pop()
        seen.add(s)
        frontier += [o for o in kb.objects(s, B.rel_iri("hypernym")) if o not in seen]
    assert B.WORDNET + "person.n.01" in seen


@pytest.mark.data
@pytest.mark.slow
def test_teddy_bear(shipped_kb, shared_root):
    teddy = B.concept_iri("teddy bear")
    assert teddy == B.CONCEPT + "teddy_bear"
    assert shipped_kb.texts(teddy, B.RDFS_LABEL) == ["teddy bear"]
    # FVQA's fact: "[[teddy bear]] is a subclass of [[stuffed animal]]", stored lemmatised
    stuffed = B.concept_iri("stuff animal")
    assert (B.rel_iri("IsA"), stuffed) in shipped_kb.by_subject[teddy]
    assert "stuffed animal" in shipped_kb.texts(stuffed, B.SKOS_ALT)
    node = next(n for n, f in shipped_kb.fact_nodes.items()
                if f[B.RDF_SUBJECT] == [teddy] and f[B.RDF_OBJECT] == [stuffed])
    assert shipped_kb.objects(node, SOURCE_OF) == [B.source_iri("conceptnet")]
    # every FVQA fact about teddy bears is a triple of concept/teddy_bear
    expected = {(B.rel_iri(f["rel"]), B.concept_iri(B.label_of(f["tail"])))
                for f in _fvqa_facts(shared_root) if B.label_of(f["head"]) == "teddy bear"}
    assert len(expected) == 11 and expected <= set(shipped_kb.by_subject[teddy])
    # the word leads to the WordNet synset and back
    assert _synsets_of(shipped_kb, "teddy bear") == [B.WORDNET + "teddy.n.01"]
    synset = B.WORDNET + "teddy.n.01"
    assert shipped_kb.texts(synset, B.SKOS_ALT) == ["teddy bear"]
    assert shipped_kb.objects(synset, B.rel_iri("hypernym")) == [B.WORDNET + "plaything.n.01"]
    assert shipped_kb.texts(synset, B.P_WNID) == ["n04399382"]


@pytest.mark.slow
def test_sources_carry_label_licence_and_origin(shipped_kb):
    for key in B.SOURCES:
        iri = B.source_iri(key)
        assert len(shipped_kb.texts(iri, B.RDFS_LABEL)) == 1
        (licence,) = shipped_kb.objects(iri, B.DC_LICENSE)
        assert licence.startswith("https://")
        assert shipped_kb.texts(iri, B.DC_DESCRIPTION)


@pytest.mark.slow
def test_one_lowercase_label_per_entity(shipped_kb):
    for s, props in shipped_kb.by_subject.items():
        if s.startswith((B.CONCEPT, B.WORDNET, B.REL)):
            labels = [o.text for p, o in props if p == B.RDFS_LABEL]
            assert len(labels) == 1, s
            if not s.startswith(B.REL):
                assert labels[0] == labels[0].lower(), s
                alts = [o.text for p, o in props if p == B.SKOS_ALT]
                assert labels[0] not in alts and alts == [a.lower() for a in alts], s
            if s.startswith(B.CONCEPT):
                assert s == B.concept_iri(labels[0]), s


@pytest.mark.data
@pytest.mark.slow
def test_vocabulary_words_reach_wordnet(shipped_kb, shared_root, wordnet):
    """CLEVR's shapes and materials and COCO's object labels have synsets (but three COCO
    labels WordNet 3.0 lacks); a closed compound is found ("wine glass" -> wineglass)."""
    coco = json.loads((shared_root / "okvqa" / "detected_coco_objects.json").read_text())
    words = {w for labels in coco.values() for w in labels}
    assert len(words) == 79
    for word in ("cube", "sphere", "cylinder", "rubber", "metal"):
        assert _synsets_of(shipped_kb, word), word
    missing = {w for w in words if not any(
        _synsets_of(shipped_kb, B.label_of(lemma)) for lemma in B.lemmas_of(wordnet, w))}
    assert missing == {"potted plant", "sports ball", "stop sign"}
    assert B.lemmas_of(wordnet, "wine glass") == ["wineglass"]
