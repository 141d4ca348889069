"""Files -> an index: the streaming pipeline, merging with what is stored, Ray, copying."""
