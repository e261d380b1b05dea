"""`assistant serve`: an OpenAI-compatible HTTP API over one `Assistant`."""
