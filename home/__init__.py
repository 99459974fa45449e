"""The top app: the only place that may import every workspace (see README, Architecture)."""
