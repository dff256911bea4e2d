"""The notice versions in force over time."""
