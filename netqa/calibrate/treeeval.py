"""Fast evaluation of a LightGBM regression model: its trees as flat arrays, summed by a parallel numba kernel.

LightGBM's own ``Booster.predict`` converts and dispatches row blocks through
its C API (about 0.5 M rows/s on one core of the project machine for the
correction's 100 shallow trees); the raster correction of ``netqa predict``
needs millions of pixels per second.  :class:`FlatTrees` holds every split of
the model (feature, threshold, numerical or categorical, missing-value rule,
default direction, children) in arrays, and :func:`FlatTrees.predict` walks
them per row in a ``prange`` loop (rows are independent: every thread count
gives the same sums).  The split rules are LightGBM's
(``Tree::NumericalDecision`` / ``CategoricalDecision``, LightGBM 4.x
``include/LightGBM/tree.h``): numerical ``x <= threshold`` goes left; a NaN is
0 unless the missing type is NaN (then it follows ``default_left``); with
missing type Zero, 0 and NaN follow ``default_left``; categorical: a NaN, a
negative value or one beyond :data:`MAX_CATEGORY` goes right, else left when int(x) is in the split's set.  The
tests compare it with ``Booster.predict`` on random rows.
"""

from __future__ import annotations

import numpy as np

from numba import prange

from propagation._jit import jit_parallel

_MISSING = {"None": 0, "Zero": 1, "NaN": 2}
#: largest categorical code a split may name (clutter tables hold up to a few dozen classes)
MAX_CATEGORY = 256


class FlatTrees:
    """A LightGBM model's trees as arrays (:meth:`from_booster`), evaluated with :meth:`predict`."""

    def __init__(self, feature, threshold, is_cat, missing, default_left, left, right, leaf_value, roots, cat_sets,
                 n_features):  # fmt: skip
        self.arrays = (feature, threshold, is_cat, missing, default_left, left, right, leaf_value, roots, cat_sets)
        self.n_features = int(n_features)

    @classmethod
    def from_booster(cls, booster) -> "FlatTrees":
        """Flatten a ``lightgbm.Booster`` (regression, no linear trees)."""
        dump = booster.dump_model()
        nodes: list[dict] = []
        leaves: list[float] = []
        cat_rows: list[np.ndarray] = []
        roots = []

        def walk(n) -> int:  # >= 0: node index; < 0: -(leaf index + 1)
            if "leaf_value" in n and "split_feature" not in n:
                leaves.append(float(n["leaf_value"]))
                return -len(leaves)
            i = len(nodes)
            rec = {"f": int(n["split_feature"]), "miss": _MISSING[n.get("missing_type", "None")],
                   "dl": bool(n.get("default_left", True)), "cat": n["decision_type"] == "=="}  # fmt: skip
            nodes.append(rec)
            if rec["cat"]:
                row = np.zeros(MAX_CATEGORY, np.bool_)
                for c in str(n["threshold"]).split("||"):
                    if int(c) >= MAX_CATEGORY:
                        raise ValueError(f"categorical code {c} >= {MAX_CATEGORY}")
                    row[int(c)] = True
                rec["thr"] = float(len(cat_rows))
                cat_rows.append(row)
            else:
                if n["decision_type"] != "<=":
                    raise ValueError(f"unsupported decision type {n['decision_type']!r}")
                rec["thr"] = float(n["threshold"])
            rec["l"] = walk(n["left_child"])
            rec["r"] = walk(n["right_child"])
            return i

        for t in dump["tree_info"]:
            roots.append(walk(t["tree_structure"]))
        col = lambda k, dt: np.array([r[k] for r in nodes], dt)  # noqa: E731
        cats = np.array(cat_rows, np.bool_) if cat_rows else np.zeros((1, MAX_CATEGORY), np.bool_)
        return cls(col("f", np.int64), col("thr", np.float64), col("cat", np.bool_), col("miss", np.int64),
                   col("dl", np.bool_), col("l", np.int64), col("r", np.int64), np.array(leaves, np.float64),
                   np.array(roots, np.int64), cats, booster.num_feature())  # fmt: skip

    def predict(self, X) -> np.ndarray:
        """Sum of the trees' leaf values per row of ``X`` ((n, n_features), NaN allowed). [model units]"""
        X = np.ascontiguousarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.n_features:
            raise ValueError(f"X must be (n, {self.n_features}), got {X.shape}")
        return _predict(X, *self.arrays)


@jit_parallel
def _predict(X, feature, threshold, is_cat, missing, default_left, left, right, leaf_value, roots, cat_sets):
    n = X.shape[0]
    out = np.zeros(n)
    for i in prange(n):
        s = 0.0
        for t in range(roots.size):
            node = roots[t]
            while node >= 0:
                x = X[i, feature[node]]
                if is_cat[node]:
                    if np.isnan(x) or x < 0 or x >= cat_sets.shape[1]:
                        go_left = False
                    else:
                        go_left = cat_sets[int(threshold[node]), int(x)]
                else:
                    m = missing[node]
                    if np.isnan(x) and m != 2:
                        x = 0.0
                    if (m == 2 and np.isnan(x)) or (m == 1 and abs(x) <= 1e-35):
                        go_left = default_left[node]
                    else:
                        go_left = x <= threshold[node]
                node = left[node] if go_left else right[node]
            s += leaf_value[-node - 1]
        out[i] = s
    return out


__all__ = ["FlatTrees", "MAX_CATEGORY"]
