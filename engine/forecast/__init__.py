"""Forecasting the open pipeline: fit (the history's behaviour), pipeline and policy (the open deals and what
the spec does to them, asked of the replay), runs (drawn with numpy, each block on a resampled behaviour), drift
(the misses at earlier cuts), forward (all of it at one cut), backtest, and their text."""
