"""Question answering over retrieved passages: condense, retrieve, pack, answer, decide, cite."""
