"""litrag: retrieval, generation and citations over the biomedical literature."""
