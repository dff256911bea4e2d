"""Policy findings recorded at append time, with the events behind them."""
