"""The network: its model and forward pass, the compiled convolution loops, a drawing's
preprocessing to MNIST's 28x28, reading and evaluating."""
