"""Loading, chunking, embedding and storing documents; never imports `assistant`."""

from ingest.embeddings import DEFAULT_EMBEDDING, load_embeddings
from ingest.pipeline import IngestReport, Progress, ingest_paths
from ingest.store import DocumentInfo, Hit, Store

__all__ = [
    "DEFAULT_EMBEDDING",
    "DocumentInfo",
    "Hit",
    "IngestReport",
    "Progress",
    "Store",
    "ingest_paths",
    "load_embeddings",
]
