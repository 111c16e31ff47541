"""Forecasting the open pipeline: fit (the history's behaviour), pipeline and policy (the open deals and what
the spec does to them, asked of the replay), runs (drawn with numpy), backtest, and their text."""
