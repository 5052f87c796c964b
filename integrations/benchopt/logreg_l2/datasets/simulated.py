"""A simulated classification data set: Gaussian features, labels from a noisy linear model.

x_i ~ N(0, I_d), y_i = sign(<x_i, w> + eps_i) with w ~ N(0, I_d) and eps_i ~ N(0, 1), so the
classes overlap (the data is not separable).
"""

import numpy as np
from benchopt import BaseDataset


class Dataset(BaseDataset):
    name = "simulated"
    parameters = {"n_samples, n_features": [(500, 20)], "random_state": [0]}

    def get_data(self):
        rng = np.random.default_rng(self.random_state)
        X = rng.standard_normal((self.n_samples, self.n_features))
        w = rng.standard_normal(self.n_features)
        y = np.where(X @ w + rng.standard_normal(self.n_samples) >= 0, 1.0, -1.0)
        return dict(X=X, y=y)
