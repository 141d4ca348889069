"""Text -> vectors: the embedder, its model files, and its torch and OpenVINO runtimes."""
