"""A run over time: its snapshots (the timeline) and the runs folder that records every run."""
