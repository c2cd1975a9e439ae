"""The blind incident corpus: assembling incident files from the pass files, and its statistics.

The corpus is written in separate passes by separate workers (``incidents/corpus-audit/``,
protocol in its ``PROTOCOL.md``): a modeller writes the topology and fault from the architecture
as described (``model/<id>.yaml``), a labeller who sees only the component list and the sources
labels every component (``label/<id>.yaml``), and second passes on a share of the incidents
(``label2/``, ``edges2/``) measure agreement. :func:`assemble` turns a model and its label into
one incident file; :func:`corpus_stats` says what the corpus can show.

Examples
--------
>>> from faultray_lab.common.files import project_path
>>> stats = corpus_stats(project_path("incidents/remodeled-18", start=__file__))
>>> stats["contested"], stats["contested_unaffected"], round(stats["best_f1_gain"], 3)
(104, 6, 0.019)
"""

from __future__ import annotations

import hashlib
import math
import os
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from ..common.errors import InputError
from ..common.files import atomic_write_text
from ..common.parsing import parse_text, read_text
from ..model.schema import EDGE_TYPES
from .incidents import Incident, incident_from_dict, load_incidents
from .labels import STATES
from .metrics import cohen_kappa, set_scores

#: Keys of a model pass file that become the incident's (the rest is audit trail).
MODEL_KEYS = ("id", "title", "provider", "date", "sources", "topology", "fault")
#: Keys a dependency may carry in a model pass file beyond the topology schema's.
BASIS_KEYS = ("basis", "basis_source")
#: Margin of F1 the power analysis asks about, and the paired SD assumed before any data.
POWER_MARGIN = 0.03
ASSUMED_PAIRED_SD = 0.12


def _read(path: Path) -> Any:
    return parse_text(read_text(path), str(path))


def _merge_sources(*lists: Sequence[str]) -> list[str]:
    out: list[str] = []
    for lst in lists:
        out.extend(u for u in lst if u not in out)
    return out


def incident_dict(model: Mapping[str, Any], label: Mapping[str, Any], *,
                  model_path: str = "", label_path: str = "") -> dict[str, Any]:
    """One incident mapping from a model pass and a label pass of the same ``id``.

    Edge bases are dropped from the topology (they stay in the model file, named in
    ``provenance``); the sources are the model's then the labeller's.

    >>> m = {"id": "x", "sources": ["https://a"], "topology": {"components": [{"id": "db"}],
    ...      "dependencies": []}, "fault": {"component": "db"}}
    >>> lab = {"id": "x", "sources": ["https://a"], "severity": "minor", "downtime_minutes": 5,
    ...        "states": {"db": "down"},
    ...        "evidence": {"db": {"quote": "db was down", "source": "https://a"}}}
    >>> incident_dict(m, lab)["truth"]["states"]
    {'db': 'down'}
    """
    if model.get("id") != label.get("id"):
        raise InputError(label_path or None, "id", f"the label's id {label.get('id')!r} is not "
                         f"the model's {model.get('id')!r}", "pair files of the same incident")
    out: dict[str, Any] = {k: model[k] for k in MODEL_KEYS if model.get(k) is not None}
    if isinstance(out.get("date"), str) and len(out["date"]) != len("YYYY-MM-DD"):
        del out["date"]  # a source that gives only the month: the id keeps it
    out["cohort"] = "corpus"
    out["sources"] = _merge_sources(model.get("sources") or [], label.get("sources") or [])
    topo = dict(model.get("topology") or {})
    topo["dependencies"] = [{k: v for k, v in d.items() if k not in BASIS_KEYS}
                            if isinstance(d, Mapping) else d
                            for d in topo.get("dependencies") or []]
    out["topology"] = topo
    truth: dict[str, Any] = {k: label[k] for k in ("severity", "downtime_minutes", "window",
                                                   "states", "evidence", "times")
                             if label.get(k) is not None}
    out["truth"] = truth
    prov = {"model": model_path, "label": label_path,
            "modeller": str(model.get("modeller", "")),
            "labeller": str(label.get("labeller", "")),
            "candidate": str(model.get("candidate", ""))}
    out["provenance"] = {k: v for k, v in prov.items() if v}
    return out


def assemble(audit: str | os.PathLike[str], output: str | os.PathLike[str],
             ) -> dict[str, list[str]]:
    """Write ``output/<id>.yaml`` for every incident of ``audit`` with a model and a label.

    Each file is validated before it is written (atomically); files are written in a fixed
    form, so the same pass files give byte-identical incident files. Returns ``{"written":
    ids, "skipped": ["id: reason", ...]}`` (a model without a label, or a pair that does not
    validate, is skipped with the reason).
    """
    audit, output = Path(audit), Path(output)
    models = sorted((audit / "model").glob("*.yaml"))
    if not models:
        raise InputError(str(audit / "model"), None, "no model pass files (*.yaml)",
                         "point at the corpus audit folder (it holds model/ and label/)")
    written: list[str] = []
    skipped: list[str] = []
    for mp in models:
        lp = audit / "label" / mp.name
        if not lp.is_file():
            skipped.append(f"{mp.stem}: no label file")
            continue
        try:
            data = incident_dict(_read(mp), _read(lp), model_path=_rel(mp, audit),
                                 label_path=_rel(lp, audit))
            text = _render(data)
            incident_from_dict(yaml.safe_load(text), source=str(output / mp.name), text=text,
                               expected_id=mp.stem)
        except InputError as exc:
            skipped.append(f"{mp.stem}: {exc}")
            continue
        atomic_write_text(output / mp.name, text)
        written.append(mp.stem)
    return {"written": written, "skipped": skipped}


def _rel(p: Path, root: Path) -> str:
    return f"{root.name}/{p.relative_to(root).as_posix()}"


def _render(data: Mapping[str, Any]) -> str:
    head = ("# Assembled by `faultray-lab corpus assemble` from the pass files named in "
            "provenance;\n# edit those, not this file.\n")
    return head + yaml.safe_dump(dict(data), sort_keys=False, allow_unicode=True, width=100)


def pass_inputs(audit: str | os.PathLike[str], *, labellers: int, second_share: float = 0.3,
                seed: int = 0, ids: Sequence[str] | None = None, tag: str = "",
                ) -> dict[str, list[str]]:
    """Write the inputs of the blind passes that follow the modellers, from ``audit/model``.

    ``inputs/labeller-N.json`` (the model files dealt round-robin over ``labellers`` workers):
    per incident only its id, title, the modeller's source URLs and the component ids and
    names - no edges, no fault. ``inputs/labeller2.json``: the same for a seeded
    ``second_share`` of the incidents. ``inputs/edge-typer.json``: for another seeded share,
    the component list and the edges with their architecture quotes, without types or sources.
    ``ids`` limits the passes to those model files (a later round) and ``tag`` is added to the
    input file names (``labeller-<tag>N.json``, ``labeller2-<tag>.json``), so earlier rounds'
    inputs stay as they were.
    Returns the ids given to each pass.
    """
    import json
    import random

    audit = Path(audit)
    models = {p.stem: _read(p) for p in sorted((audit / "model").glob("*.yaml"))
              if ids is None or p.stem in ids}
    ids = sorted(models)

    def blind(m: Mapping[str, Any]) -> dict[str, Any]:
        return {"id": m["id"], "title": m.get("title", ""), "sources": m.get("sources", []),
                "components": [{"id": c["id"], "name": c.get("name", "")}
                               for c in m["topology"]["components"]]}

    def edges(m: Mapping[str, Any]) -> dict[str, Any]:
        return {"id": m["id"], "components": blind(m)["components"],
                "dependencies": [{"source": d["source"], "target": d["target"],
                                  "basis": d.get("basis", "")}
                                 for d in m["topology"].get("dependencies") or []]}

    rng = random.Random(seed)
    k = max(1, round(second_share * len(ids)))
    second, typed = sorted(rng.sample(ids, k)), sorted(rng.sample(ids, k))
    out: dict[str, list[str]] = {}
    for w in range(labellers):
        mine = ids[w::labellers]
        out[f"labeller-{tag}{w + 1}"] = mine
        _dump(audit / "inputs" / f"labeller-{tag}{w + 1}.json",
              {"pass": "labeller", "incidents": [blind(models[i]) for i in mine]}, json)
    suffix = f"-{tag.strip('-')}" if tag else ""
    out[f"labeller2{suffix}"] = second
    _dump(audit / "inputs" / f"labeller2{suffix}.json",
          {"pass": "second labeller", "incidents": [blind(models[i]) for i in second]}, json)
    out[f"edge-typer{suffix}"] = typed
    _dump(audit / "inputs" / f"edge-typer{suffix}.json",
          {"pass": "second edge typer", "incidents": [edges(models[i]) for i in typed]}, json)
    return out


def _dump(path: Path, obj: Any, json: Any) -> None:
    atomic_write_text(path, json.dumps(obj, indent=1, ensure_ascii=False) + "\n")


#: The corpus split rule, fixed before any model was fitted (incidents/PREREGISTRATION.md).
SPLIT_SEED = "faultray-lab corpus split 2026-12-02"
SPLIT_TEST_SHARE = 0.3


def split_side(incident_id: str, seed: str = SPLIT_SEED,
               test_share: float = SPLIT_TEST_SHARE) -> str:
    """``"test"`` or ``"train"``: an incident is in the test split when the first 8 hex digits
    of sha256(``seed:id``), read as a fraction of 16**8, fall below ``test_share``. The rule
    depends on the id alone, so incidents added later keep the sides of the earlier ones and
    get their own by the same rule.

    >>> split_side("github-2020-02"), split_side("aws-2012-12")
    ('train', 'test')
    """
    digest = hashlib.sha256(f"{seed}:{incident_id}".encode()).hexdigest()
    return "test" if int(digest[:8], 16) / 16**8 < test_share else "train"


def corpus_split(ids: Sequence[str]) -> dict[str, Any]:
    """The train and test ids of a corpus and the sha256 of the test list (one id per line,
    sorted, each followed by a newline), as recorded in the pre-registration."""
    test = sorted(i for i in ids if split_side(i) == "test")
    train = sorted(i for i in ids if split_side(i) == "train")
    digest = hashlib.sha256("".join(f"{i}\n" for i in test).encode()).hexdigest()
    return {"seed": SPLIT_SEED, "test_share": SPLIT_TEST_SHARE, "train": train, "test": test,
            "test_sha256": digest}


# ---------------------------------------------------------------------------------------------
# Statistics
# ---------------------------------------------------------------------------------------------
def contested(incident: Incident) -> list[str]:
    """The components any cascade model could get wrong: reverse-reachable from the failed
    component, not the failed component itself, and labelled (not ``unknown``)."""
    unknown = incident.truth.unknown if incident.truth is not None else frozenset()
    root = incident.fault.component
    return [c for c in incident.topology.reverse_reachable(root)
            if c != root and c not in unknown]


def edge_outcomes(incidents: Sequence[Incident]) -> dict[str, dict[str, float]]:
    """Per edge type: of the edges whose target (the upstream) was affected and whose source is
    labelled, how many sources were affected."""
    hit: Counter[str] = Counter()
    seen: Counter[str] = Counter()
    for inc in incidents:
        if inc.truth is None:
            continue
        affected, unknown = set(inc.truth.affected), inc.truth.unknown
        for d in inc.topology.dependencies:
            if d.target in affected and d.source not in unknown and d.source != d.target:
                seen[d.type] += 1
                hit[d.type] += d.source in affected
    return {t: {"n": seen[t], "affected": hit[t],
                "rate": hit[t] / seen[t] if seen[t] else math.nan} for t in EDGE_TYPES}


def power_n(sd: float, margin: float = POWER_MARGIN, power: float = 0.8,
            alpha: float = 0.05) -> int:
    """Incidents a paired two-sided test needs to detect a mean F1 difference of ``margin``
    when per-incident differences have SD ``sd`` (normal approximation).

    >>> power_n(0.12)
    126
    """
    from scipy.stats import norm

    z = norm.ppf(1 - alpha / 2) + norm.ppf(power)
    return int(math.ceil((z * sd / margin) ** 2))


def _pass_maps(audit: Path, sub: str) -> dict[str, Any]:
    folder = audit / sub
    return {p.stem: _read(p) for p in sorted(folder.glob("*.yaml"))} if folder.is_dir() else {}


def agreement(audit: str | os.PathLike[str]) -> dict[str, dict[str, float]]:
    """Cohen's kappa of the second passes against the first: labels (``label2/`` against
    ``label/``, per component; ``unknown`` counts as a category) and edge types (``edges2/``
    against ``model/``, per edge)."""
    audit = Path(audit)
    first, second = _pass_maps(audit, "label"), _pass_maps(audit, "label2")
    a: dict[str, str] = {}
    b: dict[str, str] = {}
    for iid in sorted(set(first) & set(second)):
        for cid, state in (second[iid].get("states") or {}).items():
            s1 = (first[iid].get("states") or {}).get(cid)
            if s1 is not None:
                a[f"{iid}:{cid}"], b[f"{iid}:{cid}"] = s1, state
    models, edges2 = _pass_maps(audit, "model"), _pass_maps(audit, "edges2")
    e1: dict[str, str] = {}
    e2: dict[str, str] = {}
    for iid in sorted(set(models) & set(edges2)):
        typed = {(d["source"], d["target"]): d.get("type", "requires")
                 for d in models[iid]["topology"].get("dependencies") or []}
        for d in edges2[iid].get("dependencies") or []:
            key = (d.get("source"), d.get("target"))
            if key in typed:
                e1[f"{iid}:{key[0]}->{key[1]}"] = typed[key]
                e2[f"{iid}:{key[0]}->{key[1]}"] = d.get("type")
    return {"truth": cohen_kappa(a, b, STATES), "edges": cohen_kappa(e1, e2, EDGE_TYPES)}


#: The round each modeller worked in (incidents/corpus-audit/PROTOCOL.md, "Rounds"); round 3
#: preferred incidents whose postmortem says what kept working.
MODELLER_ROUNDS: Mapping[str, int] = {
    **{f"modeller-{i}": 1 for i in range(1, 7)}, **{f"modeller-{i}": 2 for i in (7, 8)},
    **{f"modeller-{i}": 3 for i in range(9, 13)}}


def incident_round(incident: Incident) -> int | None:
    """The corpus round an incident was modelled in (None outside the corpus)."""
    return MODELLER_ROUNDS.get(dict(incident.provenance).get("modeller", ""))


def corpus_stats(folder: str | os.PathLike[str] | Sequence[Incident],
                 audit: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """What a folder (or a list) of labelled incidents can show (``faultray-lab corpus stats``).

    Keys: ``incidents``, ``components``, ``labels`` (states other than unknown),
    ``unknown``, ``labels_without_evidence``, ``contested`` (reverse-reachable, non-root,
    labelled), ``contested_unaffected``, ``edge_outcomes`` (:func:`edge_outcomes`),
    ``kappa_truth`` and ``kappa_edges`` (None without an ``audit`` folder or second passes),
    ``providers`` (incidents per provider), ``best_f1_gain`` (the F1 an oracle that knows which
    contested components were unaffected gains over reverse reachability, mean per incident)
    and ``power`` (incidents needed to detect a 0.03 F1 margin at 80% power, with the paired SD
    assumed and with the SD of reverse reachability against all-components observed here).
    """
    loaded = list(folder) if isinstance(folder, Sequence) and not isinstance(folder, str) \
        else load_incidents(folder)
    incs = [i for i in loaded if i.truth is not None]
    n_comp = n_lab = n_unknown = n_noev = n_cont = n_cont_un = 0
    gains, diffs = [], []
    for inc in incs:
        truth = inc.truth
        assert truth is not None
        n_comp += len(inc.topology)
        states = truth.labels.states if truth.labels is not None else {
            c: ("down" if c in truth.affected else "unaffected") for c in inc.topology.ids}
        n_unknown += sum(s == "unknown" for s in states.values())
        n_lab += sum(s != "unknown" for s in states.values())
        if truth.labels is not None:
            n_noev += sum(1 for lab in truth.labels.labels
                          if lab.state != "unknown" and not lab.quote)
        cont = contested(inc)
        n_cont += len(cont)
        n_cont_un += sum(states.get(c) == "unaffected" for c in cont)
        known = [c for c in inc.topology.ids if c not in truth.unknown]
        rr = [c for c in inc.topology.reverse_reachable(inc.fault.component)
              if c not in truth.unknown]
        f1_rr = set_scores(rr, truth.affected)[5]
        f1_oracle = set_scores([c for c in rr if c in truth.affected], truth.affected)[5]
        f1_all = set_scores(known, truth.affected)[5]
        gains.append(f1_oracle - f1_rr)
        diffs.append(f1_rr - f1_all)
    kappa: dict[str, Any] = {"truth": None, "edges": None}
    if audit is not None and Path(audit).is_dir():
        kappa = {k: (v if v["n"] else None) for k, v in agreement(audit).items()}
    sd = float(np.std(diffs, ddof=1)) if len(diffs) > 1 else math.nan
    return {
        "incidents": len(incs), "components": n_comp, "labels": n_lab, "unknown": n_unknown,
        "labels_without_evidence": n_noev, "contested": n_cont,
        "contested_unaffected": n_cont_un, "edge_outcomes": edge_outcomes(incs),
        "kappa_truth": kappa["truth"], "kappa_edges": kappa["edges"],
        "providers": dict(sorted(Counter(i.provider or "?" for i in incs).items())),
        "best_f1_gain": float(np.mean(gains)) if gains else math.nan,
        "power": {"margin": POWER_MARGIN, "sd_assumed": ASSUMED_PAIRED_SD,
                  "n_needed_assumed": power_n(ASSUMED_PAIRED_SD),
                  "sd_observed": sd,
                  "n_needed_observed": power_n(sd) if sd == sd and sd > 0 else None},
    }
