"""Generation: a request in, notes out. The engine, the request it parses,
the prompt it builds, the grammar and sampling that choose each token, the
harmony it follows, and the decoders that run the network one step at a time
(compiled C, NumPy, or the torch reference)."""
