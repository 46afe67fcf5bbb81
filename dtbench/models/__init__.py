"""Decision Transformer model and state encoders."""
