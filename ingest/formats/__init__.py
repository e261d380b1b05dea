"""One module per file format; `ingest.loaders` maps suffixes to their loaders."""
