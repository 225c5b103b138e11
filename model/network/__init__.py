"""The network: the Transformer (torch, for training and the reference
decoder), the tokenizer it reads and writes, and its weights and checkpoints
(loaded, checked and saved here, read without torch for inference)."""
