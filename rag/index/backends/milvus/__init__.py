"""The Milvus index: two collections on a Milvus server or in a milvus-lite file."""
