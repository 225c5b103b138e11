"""Training: songs into examples (`dataset`, `pretokenise`), examples into
batches (`batches`), and the loop that trains or fine-tunes (`train`,
`progress`)."""
