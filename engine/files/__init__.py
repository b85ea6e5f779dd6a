"""Everything read from or written to disk: MNIST data and its download, model files (.npz and the
article's CSV trio), atomic writes and bounded reads, the shipped resources."""
