"""The local index: a directory of SQLite (the truth), FAISS (dense) and bm25s (sparse)."""
