"""Recipients' agreements over time: registered, changed, ended."""
