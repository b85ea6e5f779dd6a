"""A training run: its settings and recipes (RunSettings, presets, make_run), the training
generator and its events, the article's update and its compiled loop, backpropagation and
augmentation, and the run's tracker and record."""
