"""The Timeline and Runs docks, the sweeps' view and the errors' gallery."""
