"""From the canvas to the screen: the canvas, the reader of the drawing (one Reading per change)
and the views of what the net reads and sees."""
