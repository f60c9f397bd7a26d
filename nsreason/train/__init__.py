"""Training loops (layer 5): they may run the executor and read data sets; inference code never imports them."""
