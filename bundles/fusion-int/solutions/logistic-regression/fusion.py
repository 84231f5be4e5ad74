"""Supervised fusion: logistic regression on per-video standardised inducer scores.

Within every video, each inducer's scores are standardised (mean 0, standard deviation
1), which removes the inducers' different scales and per-video offsets; a strongly
regularised logistic regression learnt on the dev labels then weighs the inducers,
negative weights included, so anti-correlated inducers help instead of hurting.
"""

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

#: Inverse regularisation strength: small, since the dev split has ~150 interesting keyframes.
REGULARISATION_C = 0.01


def standardise_per_video(X: pd.DataFrame) -> pd.DataFrame:
    """z-score every inducer within each video; a constant column becomes 0."""
    by_video = X.groupby(level="video_id", sort=False)
    spread = by_video.transform("std", ddof=0)
    centred = X - by_video.transform("mean")
    return (centred / spread.where(spread > 0, 1.0)).fillna(0.0)


class Fusion:
    """Logistic regression on per-video z-scores, trained on the dev split."""

    def fit(self, X: pd.DataFrame, y: pd.Series) -> "Fusion":
        self.inducers_ = list(X.columns)
        labels = y.reindex(X.index).to_numpy()
        self.model_ = LogisticRegression(C=REGULARISATION_C, max_iter=5000)
        self.model_.fit(standardise_per_video(X).to_numpy(), labels)
        return self

    def predict(self, X: pd.DataFrame) -> pd.Series:
        features = standardise_per_video(X[self.inducers_]).to_numpy()
        return pd.Series(self.model_.decision_function(features), index=X.index, name="score", dtype=np.float64)
