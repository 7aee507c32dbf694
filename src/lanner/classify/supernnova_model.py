"""A SuperNNova model loaded once, predicting many light curves per call.

Input: a trained model directory (``model.pt`` + ``cli_args.json``, as shipped in
fink-science) and SNANA-style light curves (``SNID``, ``MJD``, ``FLUXCAL``, ``FLUXCALERR``,
``FLT``). Output: class probabilities per ``SNID``. Side effects: seeds NumPy's and torch's
global generators before each prediction, as ``supernnova.validation.validate_onthefly.
classify_lcs`` does (Bayesian models sample at inference; the seed makes scores
reproducible).

The steps are ``classify_lcs``'s (supernnova 3.0), split so the settings and network are
read once rather than at every call; tests check the two agree.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pandas as pd


class SuperNNovaModel:
    """One trained SuperNNova network, on the CPU."""

    def __init__(self, model_file: Path) -> None:
        import torch
        from supernnova.utils import training_utils as tu
        from supernnova.utils.swag_utils import SwagModel
        from supernnova.validation.validate_onthefly import get_settings

        self.model_file = model_file
        settings = get_settings(str(model_file))
        settings.use_cuda = False
        settings.idx_features_to_normalize = [
            i
            for (i, f) in enumerate(settings.training_features)
            if f in settings.training_features_to_normalize
        ]
        settings.random_length = False
        settings.random_redshift = False
        if "vanilla" in settings.pytorch_model_name:
            settings.num_inference_samples = 1
        settings.idx_features = [
            i for (i, f) in enumerate(settings.all_features) if f in settings.training_features
        ]
        self.settings = settings
        state = torch.load(str(model_file), map_location="cpu", weights_only=False)
        if isinstance(state, SwagModel):
            raise ValueError(f"{model_file}: SWAG SuperNNova models are not supported")
        rnn = tu.get_model(settings, len(settings.training_features))
        rnn.load_state_dict(state)
        rnn.to("cpu")
        rnn.eval()
        self.rnn = rnn
        self._lock = threading.Lock()

    def predict(self, lcs: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """``(snids, probabilities)``: one row of class probabilities (averaged over the
        model's inference samples) per distinct ``SNID`` of ``lcs``, in sorted SNID order."""
        import torch
        from supernnova.utils import training_utils as tu
        from supernnova.validation.validate_onthefly import format_data
        from supernnova.validation.validate_rnn import get_batch_predictions

        s = self.settings
        with self._lock, torch.no_grad():
            np.random.seed(s.seed)
            torch.manual_seed(s.seed)
            df = format_data(lcs.copy(), s)
            list_lcs = []
            for _, sel in df.groupby(level=0):
                x = sel.values.astype(np.float64)
                x[:, s.idx_features_to_normalize] = np.clip(
                    x[:, s.idx_features_to_normalize], s.arr_norm[:, 0], np.inf
                )
                x = tu.normalize_arr(x.copy(), s)[:, s.idx_features]
                list_lcs.append((x, 0, "dummy"))
            packed, _, target, rev = tu.get_data_batch(list_lcs, np.arange(len(list_lcs)), s)
            preds = []
            for _ in range(s.num_inference_samples):
                arr, _ = get_batch_predictions(self.rnn, packed, target)
                preds.append(arr[rev])
        snids = np.asarray(df.index.unique())
        return snids, np.stack(preds, axis=1).mean(axis=1)
