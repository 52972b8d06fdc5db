"""A LightGBM model as lookup tables: trees that split on the same features summed once into one table.

A regression tree is a piecewise-constant function of the features it splits
on, constant between consecutive thresholds; a sum of trees that split on the
same feature set S is therefore constant on the grid of the thresholds of S.
:class:`TreeTables` bins each feature once per row (the number of the
model's thresholds of that feature below the value, plus bins for NaN, a
zero under LightGBM's missing type "Zero", and categorical codes) and adds one
table entry per feature set, instead of walking 100 trees: the correction's
shallow trees (4 leaves, <= 3 features each) on a handful of features give a
few dozen tables, and the walk's guessed branches go away.  The sums are the
trees' (:class:`netqa.calibrate.treeeval.FlatTrees`, the same split rules,
LightGBM 4.x ``Tree::NumericalDecision`` / ``CategoricalDecision``), added in
another order (last-bit differences).  A model whose tables would exceed
:data:`MAX_TABLE_ENTRIES` is not tabulated (:meth:`TreeTables.from_booster`
returns None; the caller walks the trees).

Reference: the decision-tree ensemble as a sum of piecewise-constant functions
(J. H. Friedman, Ann. Statist. 29(5), 2001, section 4.3).
"""

from __future__ import annotations

import math

import numpy as np
from numba import prange

from netqa.calibrate.treeeval import _MISSING, MAX_CATEGORY
from propagation._jit import jit_inline, jit_parallel

#: Largest number of entries in all tables together (float64: 16 MiB; built in ~2 s at this size, the default
#: correction's 100 trees of 4 leaves on 5 features need ~40 k). [-]
MAX_TABLE_ENTRIES = 1 << 21


def _parse(node, feats: set, out_nodes: list) -> int:
    """Flatten one tree: nodes as dicts, leaves with ``leaf``; returns the node's index."""
    i = len(out_nodes)
    if "split_feature" not in node:
        out_nodes.append({"leaf": float(node["leaf_value"])})
        return i
    rec = {"f": int(node["split_feature"]), "cat": node["decision_type"] == "==",
           "miss": _MISSING[node.get("missing_type", "None")], "dl": bool(node.get("default_left", True))}  # fmt: skip
    if rec["cat"]:
        rec["set"] = {int(c) for c in str(node["threshold"]).split("||")}
        if max(rec["set"]) >= MAX_CATEGORY:
            raise ValueError(f"categorical code {max(rec['set'])} >= {MAX_CATEGORY}")
    elif node["decision_type"] != "<=":
        raise ValueError(f"unsupported decision type {node['decision_type']!r}")
    else:
        rec["thr"] = float(node["threshold"])
    feats.add(rec["f"])
    out_nodes.append(rec)
    rec["l"] = _parse(node["left_child"], feats, out_nodes)
    rec["r"] = _parse(node["right_child"], feats, out_nodes)
    return i


class TreeTables:
    """The model's trees summed into one table per feature set; :meth:`predict` as :class:`FlatTrees.predict`."""

    def __init__(self, arrays, n_features: int):
        self.arrays = arrays
        self.n_features = int(n_features)

    @classmethod
    def from_booster(cls, booster, max_entries: int = MAX_TABLE_ENTRIES) -> TreeTables | None:
        """Tabulate a ``lightgbm.Booster`` (regression, no linear trees); None when the tables would be too large."""
        trees = []
        for t in booster.dump_model()["tree_info"]:
            nodes: list[dict] = []
            feats: set = set()
            _parse(t["tree_structure"], feats, nodes)
            trees.append((tuple(sorted(feats)), nodes))
        n_feat = booster.num_feature()
        # per feature: its bins' representative decisions
        thr = {f: set() for f in range(n_feat)}
        is_cat = np.zeros(n_feat, np.bool_)
        has_zero = np.zeros(n_feat, np.bool_)
        for _, nodes in trees:
            for n in nodes:
                if "leaf" in n:
                    continue
                if n["cat"]:
                    is_cat[n["f"]] = True
                else:
                    thr[n["f"]].add(n["thr"])
                    has_zero[n["f"]] |= n["miss"] == 1
        thr_sorted = {f: np.array(sorted(v), np.float64) for f, v in thr.items()}
        # bins: numerical: 0..K (thresholds below), K+1 NaN, K+2 zero (missing type Zero only);
        # categorical: 0..MAX_CATEGORY-1 the code, MAX_CATEGORY anything else (NaN, negative, too large)
        n_bins = np.array([MAX_CATEGORY + 1 if is_cat[f] else thr_sorted[f].size + 2 + int(has_zero[f])
                           for f in range(n_feat)], np.int64)  # fmt: skip
        groups: dict[tuple, list] = {}
        for fs, nodes in trees:
            groups.setdefault(fs, []).append(nodes)
        total = sum(int(np.prod([n_bins[f] for f in fs])) for fs in groups)
        if total > max_entries:
            return None
        values, g_feat, g_feat_off, g_stride, g_table_off = [], [], [0], [], [0]
        for fs, members in groups.items():
            shape = tuple(int(n_bins[f]) for f in fs)
            grids = np.indices(shape).reshape(len(fs), -1) if fs else np.zeros((0, 1), np.int64)
            table = np.zeros(grids.shape[1])
            for nodes in members:
                table += _tree_on_bins(nodes, fs, grids, thr_sorted)
            values.append(table)
            strides = [int(np.prod(shape[k + 1 :])) for k in range(len(fs))]
            g_feat += list(fs)
            g_stride += strides
            g_feat_off.append(len(g_feat))
            g_table_off.append(g_table_off[-1] + table.size)
        thr_all = np.concatenate([thr_sorted[f] for f in range(n_feat)] + [np.zeros(1)])
        thr_off = np.cumsum([0] + [thr_sorted[f].size for f in range(n_feat)]).astype(np.int64)
        used = np.zeros(n_feat, np.bool_)
        used[g_feat] = True
        arrays = (thr_all, thr_off, is_cat, has_zero, used, np.array(g_feat, np.int64), np.array(g_feat_off, np.int64),
                  np.array(g_stride, np.int64), np.array(g_table_off, np.int64), np.concatenate(values + [np.zeros(0)]))  # fmt: skip
        return cls(arrays, n_feat)

    def predict(self, X) -> np.ndarray:
        """Sum of the trees' leaf values per row of ``X`` ((n, n_features), NaN allowed). [model units]"""
        X = np.ascontiguousarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.n_features:
            raise ValueError(f"X must be (n, {self.n_features}), got {X.shape}")
        return _predict(X, *self.arrays)


def _tree_on_bins(nodes, fs, grids, thr_sorted) -> np.ndarray:
    """One tree's leaf value at every bin combination of its feature set (columns of ``grids``)."""
    pos = {f: k for k, f in enumerate(fs)}
    at = np.zeros(grids.shape[1], np.int64)
    out = np.zeros(grids.shape[1])
    for i, n in enumerate(nodes):  # pre-order: every entry that reaches node i is routed there before i
        sel = np.flatnonzero(at == i)
        if not sel.size:
            continue
        if "leaf" in n:
            out[sel] = n["leaf"]
            continue
        b = grids[pos[n["f"]], sel]
        if n["cat"]:
            go_left = np.isin(b, sorted(n["set"]))  # bin MAX_CATEGORY (invalid) is in no set: right
        else:
            t = thr_sorted[n["f"]]
            k = int(np.searchsorted(t, n["thr"]))  # the node's threshold is t[k]: x <= t[k] <=> bin <= k
            nan_left = (0.0 <= n["thr"]) if n["miss"] == 0 else n["dl"]
            zero_left = n["dl"] if n["miss"] == 1 else (0.0 <= n["thr"])
            go_left = np.where(b <= t.size, b <= k, np.where(b == t.size + 1, nan_left, zero_left))
        at[sel] = np.where(go_left, n["l"], n["r"])
    return out


@jit_parallel
def _predict(X, thr_all, thr_off, is_cat, has_zero, used, g_feat, g_feat_off, g_stride, g_table_off, values):  # pragma: no cover
    n, n_feat = X.shape
    n_groups = g_table_off.size - 1
    out = np.zeros(n)
    n_chunks = (n + _CHUNK - 1) // _CHUNK
    for ch in prange(n_chunks):
        bins = np.zeros(n_feat, np.int64)
        for i in range(ch * _CHUNK, min((ch + 1) * _CHUNK, n)):
            _row(X, i, thr_all, thr_off, is_cat, has_zero, used, g_feat, g_feat_off, g_stride, g_table_off, values,
                 n_groups, bins, out)  # fmt: skip
    return out


#: rows per parallel chunk of :func:`_predict` (one bin buffer each)
_CHUNK = 4096


@jit_inline
def _row(X, i, thr_all, thr_off, is_cat, has_zero, used, g_feat, g_feat_off, g_stride, g_table_off, values, n_groups,
         bins, out):  # pragma: no cover  # fmt: skip
    """Row ``i``: bin its features, add one entry per table."""
    n_feat = X.shape[1]
    for f in range(n_feat):
        if not used[f]:
            continue
        x = X[i, f]
        if is_cat[f]:
            bins[f] = int(x) if (x >= 0 and x < MAX_CATEGORY) else MAX_CATEGORY
            continue
        lo = thr_off[f]
        k = thr_off[f + 1] - lo
        if math.isnan(x):
            bins[f] = k + 1
        elif has_zero[f] and abs(x) <= 1e-35:
            bins[f] = k + 2
        else:  # number of thresholds < x: x <= t[j] <=> bin <= j
            a, b = 0, k
            while a < b:
                mid = (a + b) >> 1
                if thr_all[lo + mid] < x:
                    a = mid + 1
                else:
                    b = mid
            bins[f] = a
    s = 0.0
    for g in range(n_groups):
        idx = 0
        for j in range(g_feat_off[g], g_feat_off[g + 1]):
            idx += bins[g_feat[j]] * g_stride[j]
        s += values[g_table_off[g] + idx]
    out[i] = s


__all__ = ["MAX_TABLE_ENTRIES", "TreeTables"]
