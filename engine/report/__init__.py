"""Report renderers for replay results and metrics."""
